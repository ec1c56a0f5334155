"""Lambda steps: the function's handler runs on the step's inputs, its result typed as outputs.

The function is the local Lambda service's, looked up by the name in ``FunctionArn`` (any
account or region in the ARN): one created by the SDK's ``Lambda(script=..., handler=...)``
while the definition was built, or pointed at a handler beforehand with ``create_function``.
A function with no local code is refused before the execution starts (``preflight``). The
handler runs in its own process with the step's arguments as the event; its error fails the
step. As on SageMaker a stop waits for the function: Stopped if it finishes, Failed if it
times out.
"""

from __future__ import annotations

import json

from smlocal.definition import StepSpec
from smlocal.errors import DefinitionError, ExecutionStopped, StepFailed
from smlocal.functions import FunctionNotFound, FunctionRecord, InvalidFunction, parse_name
from smlocal.functions import invoke
from smlocal.steps import outputs
from smlocal.steps.base import StepContext, StepOutcome

HOW_TO = (
    "create it on the local target first, e.g. with the SDK: Lambda(function_name={name!r}, "
    "execution_role_arn=role, script='handler.py', handler='handler.lambda_handler').upsert(), "
    "or boto3.client('lambda').create_function(FunctionName={name!r}, Runtime='python3.12', "
    "Handler='handler.lambda_handler', Role=role, Code={{'ZipFile': zipped_code}})"
)


def find(services, arn: str, region: str) -> FunctionRecord:
    """The local function a FunctionArn names (looked up by name in the pipeline's region)."""
    _, name, _ = parse_name(arn)
    return services.functions.get(region, name)


class LambdaExecutor:
    def validate(self, step: StepSpec) -> None:
        arn = step.raw.get("FunctionArn")
        if not arn:
            raise DefinitionError(f"step {step.name!r}: a Lambda step needs a FunctionArn")
        if isinstance(arn, str):
            try:
                parse_name(arn)
            except InvalidFunction as err:
                raise DefinitionError(f"step {step.name!r}: {err}") from None
        outputs.validate(step)

    def preflight(self, step: StepSpec, fields: dict, services, region: str) -> None:
        """Before the run: the function must have code here."""
        arn = fields.get("FunctionArn")
        try:
            find(services, arn, region)
        except FunctionNotFound:
            _, name, _ = parse_name(arn)
            raise DefinitionError(
                f"step {step.name!r} invokes the Lambda function {arn}, which has no code on "
                f"the local target: {HOW_TO.format(name=name)}"
            ) from None

    def run(self, ctx: StepContext) -> StepOutcome:
        arn = ctx.fields["FunctionArn"]
        try:
            function = find(ctx.services, arn, ctx.region)
        except (FunctionNotFound, InvalidFunction) as err:
            raise StepFailed(f"ClientError: {err}") from None
        event = json.dumps(ctx.arguments).encode()
        result = invoke(ctx.services.functions, function, event, log_dir=ctx.job_dir / "logs")
        metadata = {"Lambda": {"Arn": arn}}
        if result.failed:
            error = result.error
            failure = StepFailed(
                f"ClientError: the Lambda function {function.name} failed: "
                f"{error.get('errorType')}: {error.get('errorMessage')} (log: {result.log})"
            )
            failure.metadata = metadata
            raise failure
        if ctx.stop.is_set():
            raise ExecutionStopped("the execution was stopped")
        response = json.loads(result.payload)
        declared = outputs.declared(ctx.step)
        if declared and not isinstance(response, dict):
            raise StepFailed(
                f"ClientError: the Lambda function {function.name} returned "
                f"{type(response).__name__}, not the JSON object its outputs are read from"
            )
        properties, values = outputs.resolve(
            ctx.step, response or {}, f"the response of {function.name}"
        )
        metadata["Lambda"]["OutputParameters"] = values
        return StepOutcome(properties, metadata)
