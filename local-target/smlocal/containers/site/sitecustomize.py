"""Python processes started inside a step inherit the step's /opt/ml path map."""

try:
    from smlocal.containers import remap

    remap.install_from_environment()
except ImportError:  # the pipelines package is not importable there: nothing to inherit
    pass
