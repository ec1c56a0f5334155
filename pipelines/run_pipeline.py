"""A CLI to create or update and run pipelines."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Optional

from pipelines import _cli
from pipelines._utils import UsageError, parse_kwargs, parse_tags

WAIT_DELAY_SECONDS = 60
WAIT_MAX_ATTEMPTS = 120


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "run-pipeline",
        description="Creates or updates and runs the pipeline for the pipeline script.",
    )
    _cli.add_pipeline_arguments(parser)
    parser.add_argument(
        "-role-arn",
        "--role-arn",
        dest="role_arn",
        type=str,
        help="The role arn for the pipeline service execution role (optional with --local).",
    )
    parser.add_argument(
        "-description",
        "--description",
        dest="description",
        type=str,
        default=None,
        help="The description of the pipeline.",
    )
    parser.add_argument(
        "-tags",
        "--tags",
        dest="tags",
        default=None,
        help="""List of dict strings of '[{"Key": "string", "Value": "string"}, ..]'""",
    )
    parser.add_argument(
        "-parameters",
        "--parameters",
        dest="parameters",
        default=None,
        help="""Dict string of pipeline parameter overrides for this execution, """
        """e.g. '{"ModelApprovalStatus": "Approved"}'""",
    )
    parser.add_argument(
        "--print-definition",
        action="store_true",
        help="Print the pipeline definition JSON before creating or updating the pipeline.",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="Print the outcome alone (the final 'Execution status:' line; a failure on stderr).",
    )
    return parser


def _list_steps(execution, say) -> list:
    from botocore.exceptions import ClientError

    try:
        return execution.list_steps()
    except ClientError as err:
        say(f"(the step list is not available from this endpoint: {err})")
        return []


def _reporter(quiet: bool):
    """``print``, or with ``--quiet`` a no-op: only the outcome is printed then."""
    return (lambda *args, **kwargs: None) if quiet else print


def _failure_summary(execution, steps: list, status: str) -> str:
    if status == "Stopped":
        return "Execution stopped."
    failed = [s for s in steps if s.get("StepStatus") == "Failed"]
    if failed:
        step = failed[0]
        return f"Execution failed at step {step['StepName']}: {step.get('FailureReason', 'no reason given')}"
    reason = execution.describe().get("FailureReason")
    return f"Execution failed: {reason}" if reason else "Execution failed."


def _wait_local(execution, live_types: Optional[dict]) -> tuple[str, Optional[KeyboardInterrupt]]:
    """Block on a local execution, showing progress if ``live_types``; Ctrl-C or SIGTERM stops it.

    Returns the final status and the interruption that stopped it, if any. A second
    interruption while stopping leaves at once: the execution then reads Stopped (or, if it
    had not stopped yet, ended) from its record, and its processes end with this one.
    """
    from botocore.exceptions import ClientError
    from smlocal.wait import settle, wait_for
    from pipelines.progress import follow

    def wait() -> str:
        status = follow(execution, live_types) if live_types is not None else wait_for(execution)
        settle(execution)
        return status

    try:
        return wait(), None
    except KeyboardInterrupt as interrupt:
        print(f"\n{_cli.interrupt_name(interrupt)}: stopping the execution...", file=sys.stderr)
        try:
            execution.stop()
        except ClientError:  # it ended meanwhile
            pass
        return wait(), interrupt


def main(argv=None):
    """The main harness for creating or updating and running the pipeline."""
    _cli.run_command(_main, argv)


def _main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    _cli.select_target(args)
    if args.module_name is None:
        parser.print_help()
        sys.exit(2)
    if args.role_arn is None and not args.local:
        _cli.usage_error(
            parser,
            "--role-arn is required to run on SageMaker (the IAM role the pipeline runs as, "
            "e.g. arn:aws:iam::<account>:role/<name>); or pass --local to run on this machine",
        )
    _cli.quiet_sdk(offline=args.local)
    try:
        tags = parse_tags(args.tags)
        parameters = parse_kwargs(args.parameters, "--parameters")
        if args.local:
            from smlocal.steps.process import prestart

            # warm the step processes' imports while the module and the SDK import (next
            # line), not for a run refused for its arguments so far: nothing would use them
            prestart()
        kwargs = _cli.pipeline_kwargs(parser, args)
    except UsageError as err:
        _cli.usage_error(parser, str(err))

    from botocore.exceptions import ClientError, WaiterError

    from pipelines._utils import get_pipeline_custom_tags
    from smlocal import config as local_config
    from smlocal.errors import StateError

    role_arn = args.role_arn or local_config.LOCAL_ROLE_ARN
    say = _reporter(args.quiet)
    try:
        pipeline = _cli.build_pipeline(args.module_name, kwargs)
        definition = pipeline.definition()
        if args.local:
            _cli.refuse_unrunnable(definition)
        _cli.refuse_bad_parameters(definition, parameters)
        parsed = json.loads(definition)
        if args.print_definition:
            say("###### Creating/updating a SageMaker Pipeline with the following definition:")
            say(json.dumps(parsed, indent=2, sort_keys=True))
        else:
            say(f"###### Creating/updating the SageMaker Pipeline {pipeline.name}")

        all_tags = get_pipeline_custom_tags(args.module_name, kwargs, tags)

        upsert_response = pipeline.upsert(
            role_arn=role_arn, description=args.description, tags=all_tags
        )
        say("\n###### Created/Updated SageMaker Pipeline: Response received:")
        say(upsert_response)

        try:
            execution = pipeline.start(parameters=parameters or None)
        except ClientError as err:
            if err.response["Error"]["Code"] == "ValidationException" and args.local:
                raise UsageError(f"--parameters: {err.response['Error']['Message']}") from None
            raise
        say(f"\n###### Execution started with PipelineExecutionArn: {execution.arn}")

        say("Waiting for the execution to finish...")
        live = args.local and not args.quiet and sys.stdout.isatty()
        interrupt = None
        if args.local:
            from pipelines.progress import step_types

            status, interrupt = _wait_local(execution, step_types(parsed) if live else None)
        else:
            try:
                execution.wait(delay=WAIT_DELAY_SECONDS, max_attempts=WAIT_MAX_ATTEMPTS)
            except WaiterError:
                pass  # a failed execution: reported below from its steps
            status = execution.describe()["PipelineExecutionStatus"]
        say("\n#####Execution completed. Execution step details:")
        steps = _list_steps(execution, say)
        if steps:
            say(json.dumps(steps, indent=2, default=str))
        if args.local:
            execution_id = execution.arn.rsplit("/", 1)[-1]
            folder = local_config.home() / "executions" / execution_id
            if live:
                from pipelines.progress import Progress, step_types

                say("\n" + Progress(step_types(parsed)).table(steps))
            say(f"\nStep logs: {folder}")
            say(f"A picture of this execution: pipelines-local picture {execution_id}")
        print(("" if args.quiet else "\n") + f"Execution status: {status}")
        if status != "Succeeded":
            print(_failure_summary(execution, steps, status), file=sys.stderr)
            if status == "Stopped":
                sys.exit(_cli.interrupt_code(interrupt) if interrupt else _cli.EXIT_INTERRUPTED)
            sys.exit(1)
    except UsageError as err:
        _cli.usage_error(parser, str(err))
    except StateError:
        raise  # one line, from run_command
    except Exception as e:  # the template's contract: report, trace, exit 1
        print(f"Exception: {e}")
        traceback.print_exc()
        sys.exit(1)


if __name__ == "__main__":
    main()
