"""What the two CLIs share: the --local switch, a quiet SDK, and one-line user errors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from typing import NoReturn

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
    """Keep the SDK's start-up notices (and, offline, its INFO/WARNING chatter) off the output.

    Must run before ``sagemaker`` is imported.
    """
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    # The SDK calls logging.basicConfig(level=INFO) on import; configuring first wins.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:%(name)s:%(message)s")
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    if offline:
        logging.getLogger("sagemaker").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module=r"sagemaker(\.|$)")


def select_target(local: bool) -> None:
    if local:
        from pipelines.local import config

        config.enable()
        # Nothing on the offline path may look for credentials on the network.
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


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
