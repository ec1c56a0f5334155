"""moto's server on 127.0.0.1, extended where moto falls short of SageMaker.

moto 5 serves the pipeline and model-package APIs but has no ListPipelineExecutionSteps and
only ever reports Succeeded. The server runs in this process, so tests can extend it: steps
are listed from the execution's definition, and executions can be made to fail.
"""

import json
import urllib.request
from datetime import datetime, timezone

from moto.core.responses import ActionResult
from moto.sagemaker import models as sm_models
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer

FAIL_NEXT = {"reason": None}


def _list_pipeline_execution_steps(self):
    arn = self._get_param("PipelineExecutionArn")
    execution = self.sagemaker_backend.describe_pipeline_execution(arn)
    definition = json.loads(
        self.sagemaker_backend.describe_pipeline_definition_for_execution(arn)["PipelineDefinition"]
    )
    now = datetime.now(timezone.utc)
    steps = [
        {
            "StepName": s["Name"],
            "StepStatus": "Succeeded",
            "StartTime": now,
            "EndTime": now,
            "Metadata": {},
        }
        for s in definition["Steps"]
    ]
    if execution["PipelineExecutionStatus"] == "Failed" and steps:
        steps[-1].update(StepStatus="Failed", FailureReason=FAIL_NEXT["reason"] or "failed")
    return ActionResult({"PipelineExecutionSteps": list(reversed(steps))})


_original_init = sm_models.FakePipelineExecution.__init__


def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    if FAIL_NEXT["reason"]:
        self.pipeline_execution_status = "Failed"
        self.pipeline_execution_failure_reason = FAIL_NEXT["reason"]


class MotoServer:
    def __init__(self, port: int, extended: bool = True):
        self.port = port
        self.extended = extended
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        if self.extended:
            SageMakerResponse.list_pipeline_execution_steps = _list_pipeline_execution_steps
        sm_models.FakePipelineExecution.__init__ = _init
        self.server.start()
        self._count_requests()
        # backends live in this process and outlast a server: start every test from nothing
        urllib.request.urlopen(
            urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        ).read()
        return self

    def _count_requests(self) -> None:
        """Count the AWS requests the server receives (its own /moto-api/ calls aside)."""
        server = self.server._server
        app = server.app
        self.requests: list[str] = []

        def counting(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/moto-api/"):
                self.requests.append(
                    f"{environ.get('REQUEST_METHOD')} {environ.get('HTTP_HOST')}{path}"
                )
            return app(environ, start_response)

        server.app = counting

    def request_count(self) -> int:
        return len(self.requests)

    def __exit__(self, *exc):
        self.server.stop()
        if hasattr(SageMakerResponse, "list_pipeline_execution_steps"):
            del SageMakerResponse.list_pipeline_execution_steps
        sm_models.FakePipelineExecution.__init__ = _original_init
        FAIL_NEXT["reason"] = None
