"""The abalone pipeline with hyperparameter tuning, a Lambda step and a manual approval."""

APPROVAL_QUEUE = "AbaloneApprovalQueue"  # the SQS queue of the approval (callback) step
