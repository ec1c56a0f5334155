"""Imported at interpreter start-up by ``smlocal.pth`` when ``PIPELINES_TARGET=local``.

That is how a step's job script, a user's own CLI or a notebook kernel is on without
calling anything of ours: the hooks are in place before any of their code makes a client.
"""

from smlocal import activation

activation.enable()
