"""SDK 3.x tests: the SDK makes a SageMaker client while it is imported, so it needs a region."""

import os

# (the offline_environment fixture drops it again for each test; the local target sets its own)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
