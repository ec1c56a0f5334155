"""The container runtime: what stands in for a job's container on this machine.

``launch`` makes a job's process its container's (``runtime`` picks the mechanism:
``namespace`` + ``layout`` for an OS-level ``/opt/ml``, or the ``remap`` path map where Linux
namespaces are not allowed), in its image's Python environment (``environments``); the
``forkserver`` forks such processes warm. Emulated programs run inside: the built-in XGBoost
algorithm (``xgboost_algorithm``, per image version: ``xgboost_versions``), batch transform
(``transform``, ``csv_filters``) and the training toolkit's steps (``toolkit``).
"""
