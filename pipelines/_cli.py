"""What the two CLIs share: the --local switch, a quiet SDK, and one-line user errors."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import warnings
from typing import Callable, NoReturn, Optional

LOCAL_HELP = (
    "Use the local target: no AWS account, no Docker; state under $PIPELINES_LOCAL_HOME "
    "(default ~/.pipelines-local)."
)


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """The template's flags both CLIs take (``-n``, ``-kwargs``), and ``--local``."""
    parser.add_argument(
        "-n",
        "--module-name",
        dest="module_name",
        type=str,
        help="The module name of the pipeline to import.",
    )
    parser.add_argument(
        "-kwargs",
        "--kwargs",
        dest="kwargs",
        default=None,
        help="Dict string of keyword arguments for the pipeline generation (if supported)",
    )
    parser.add_argument("--local", action="store_true", help=LOCAL_HELP)


def quiet_sdk(offline: bool) -> None:
    """Keep the SDK's notices that do not concern the user off the output (CLIs and notebook).

    Its start-up lines, the 2.x deprecation notice, PipelineSession's "No Wait, No Logs, No
    Job" warning (building a definition never starts jobs: that is the point), and offline
    its INFO/WARNING chatter about AWS. Also keeps IPython's own tracebacks, which the SDK
    replaces with rich ones that notebook front-ends show as output, not as the error.
    Must run before ``sagemaker`` is imported.
    """
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    from smlocal import sdk

    sdk.share_botocore_data()  # not quiet, but fast: before the SDK makes its sessions
    # The SDK calls logging.basicConfig(level=INFO) on import; configuring first wins.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:%(name)s:%(message)s")
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    warnings.filterwarnings(
        "ignore", message="Running within a PipelineSession", module="sagemaker"
    )
    _keep_plain_tracebacks()
    if offline:
        logging.getLogger("sagemaker").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module=r"sagemaker(\.|$)")


def _keep_plain_tracebacks() -> None:
    """Undo the rich traceback hook sagemaker-core puts into IPython when it is imported.

    The hook prints a traceback as output and leaves the error itself empty, so a failed cell
    shows no message where notebook front-ends (and nbclient) look for it.
    """
    if "IPython" not in sys.modules:  # the hook only changes IPython's tracebacks
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    try:
        import sagemaker_core.main.utils  # noqa: F401 - installs the hook on import
    except ImportError:  # another SDK layout: nothing to undo
        return
    for name in ("showtraceback", "_showtraceback", "showsyntaxerror"):
        shell.__dict__.pop(name, None)  # the shell's own methods again


def select_target(args: argparse.Namespace) -> None:
    """``--local``, or ``PIPELINES_TARGET=local`` in the environment: turn the local target on.

    From then on every AWS call of this process and the processes it starts is answered
    locally, whatever the pipeline module does to build its sessions.
    """
    from smlocal import config

    args.local = bool(getattr(args, "local", False)) or config.requested()
    if args.local:
        import smlocal

        smlocal.enable()


def usage_error(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    """Report in argparse's own format: ``prog: error: message`` on stderr, exit 2."""
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def require_credentials(parser: argparse.ArgumentParser) -> None:
    """Without --local the SDK needs AWS credentials: say so in one line before it fails."""
    import boto3

    if boto3.Session().get_credentials() is None:
        usage_error(
            parser,
            "no AWS credentials found (environment, ~/.aws or instance role); "
            "configure them to use SageMaker, or pass --local to use the local target",
        )


EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is (what was started is stopped first), then exit 143."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def interrupt_code(interrupt: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM: the codes a shell gives a process each signal ended."""
    return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED


def interrupt_name(interrupt: BaseException) -> str:
    return "Terminated" if isinstance(interrupt, Terminated) else "Interrupted"


def run_command(command: Callable[[Optional[list]], None], argv: Optional[list]) -> NoReturn:
    """Run a CLI's ``command(argv)`` and exit with its code; Ctrl-C is exit code 130.

    SIGTERM is handled as Ctrl-C is (a service manager or ``timeout`` stops a run as cleanly
    as a user does), with exit code 143.

    From the command line (``argv`` None) the process then ends at once, output flushed:
    tearing down the SDK's modules and waiting for the local target's warm step-process
    server to exit took about a second after all was done, and nothing is left to save
    (records are committed; the server exits when its input closes). Called from Python
    with ``argv``, it raises SystemExit as usual.
    """
    from smlocal.errors import StateError

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        try:
            command(argv)
            code = 0
        except KeyboardInterrupt as interrupt:  # before an execution exists: nothing to stop
            print(f"\n{interrupt_name(interrupt)}.", file=sys.stderr)
            code = interrupt_code(interrupt)
        except SystemExit as exit_:
            code = exit_.code
        except StateError as err:  # the state folder is the user's to fix: one line
            print(f"error: {err}", file=sys.stderr)
            code = 1
    except KeyboardInterrupt as again:  # a second signal while the first was reported
        code = interrupt_code(again)
    if argv is not None:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        sys.exit(code)
    if main_thread:  # leaving now: a further Ctrl-C must not interrupt the leaving
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code or 0)


def can_draw() -> bool:
    """Pictures need matplotlib: the optional ``pictures`` extra (about 90 MB)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


PICTURES_HINT = "drawing needs matplotlib: pip install matplotlib (or the pictures extra)"


def stderr(message: str) -> None:
    print(message, file=sys.stderr)


def pipeline_kwargs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict:
    """``--kwargs`` parsed, with a default region; without --local, credentials checked first.

    Raises UsageError for the caller to report.
    """
    from pipelines._utils import parse_kwargs, with_region

    kwargs = with_region(
        args.module_name, parse_kwargs(args.kwargs), fallback="us-east-1" if args.local else None
    )
    if not args.local:
        require_credentials(parser)
    return kwargs


def build_pipeline(module_name: str, kwargs: dict):
    """The module's pipeline; a missing role is the user's to fix (UsageError)."""
    from pipelines._utils import UsageError, get_pipeline_driver
    from pipelines.target import MissingRoleError

    try:
        return get_pipeline_driver(module_name, kwargs)
    except MissingRoleError as err:
        raise UsageError(str(err)) from None


def refuse_unrunnable(definition: str) -> None:
    """On the local target, refuse a definition it cannot run before anything is created.

    The local target would refuse it at CreatePipeline anyway; checking first spares the
    upsert and gives the user one line naming every step at fault.

    Raises:
        UsageError: naming every step the local target cannot run.
    """
    from pipelines._utils import UsageError
    from smlocal.definition import check
    from smlocal.errors import DefinitionError

    try:
        check(definition)
    except DefinitionError as err:
        raise UsageError(str(err)) from None


def refuse_bad_parameters(definition: str, parameters: dict) -> None:
    """Refuse ``--parameters`` the definition cannot take, on either target, before the upsert.

    The definition's Parameters say every name and type, so a typo need not create or
    update the pipeline first.

    Raises:
        UsageError: naming the flag, the parameter, the value and what was expected.
    """
    from pipelines._utils import UsageError
    from smlocal import parameters as local_parameters
    from smlocal.errors import DefinitionError, ParameterError

    try:
        local_parameters.check(definition, parameters)
    except ParameterError as err:
        raise UsageError(f"--parameters: {err}") from None
    except DefinitionError:
        pass  # Parameters the local reading does not know: the target judges them
