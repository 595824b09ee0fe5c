"""A sweep's runs in MLflow, so that ``mlflow ui`` can compare them (only when a tracking URI is given).

``course sweep ... --mlflow URI`` (or ``MLFLOW_TRACKING_URI``) logs every run of the sweep as one
MLflow run, under one experiment per sweep (named after the notebook and the output folder): its
parameters, its metrics, its fingerprint and provenance as tags, and the executed notebook as an
artifact. Without a URI this module is never imported, and neither is MLflow.

MLflow is optional (``requirements-instructors.txt`` pins ``mlflow-skinny``, the client without the
server; a local store is ``sqlite:///path/mlflow.db``; ``pip install mlflow`` adds ``mlflow ui``).
"""

from __future__ import annotations

import os
from pathlib import Path


class TrackingError(RuntimeError):
    """MLflow is missing, or the tracking URI cannot be reached."""


def tracking_uri(given: str | None) -> str | None:
    return given or os.environ.get("MLFLOW_TRACKING_URI") or None


class SweepTracker:
    """One MLflow experiment for a sweep; `log` adds one finished run to it (once)."""

    def __init__(self, uri: str, experiment: str):
        # Fail in seconds, not after MLflow's default minutes of retries, when a server is down.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise TrackingError(
                "--mlflow needs MLflow: pip install -r requirements-instructors.txt (mlflow-skinny)"
            ) from None
        self.uri = uri
        try:
            self.client = MlflowClient(tracking_uri=uri)
            found = self.client.get_experiment_by_name(experiment)
            if found is not None:
                self.experiment_id = found.experiment_id
            else:
                self.experiment_id = self.client.create_experiment(experiment, artifact_location=self._artifacts(uri))
        except Exception as err:  # MLflow raises many kinds: connection, HTTP, database, bad URI
            first_line = (str(err).strip().splitlines() or [""])[0][:200]
            raise TrackingError(
                f"cannot reach the MLflow tracking URI {uri!r} ({type(err).__name__}: {first_line}); "
                "start the server or fix the URI, or leave out --mlflow (and MLFLOW_TRACKING_URI)"
            ) from None

    @staticmethod
    def _artifacts(uri: str) -> str | None:
        """A local store keeps its artifacts beside its database (else MLflow uses ./mlruns)."""
        if uri.startswith("sqlite:///"):
            return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()
        return None  # a server decides

    def log(self, record: dict) -> str:
        """Log one run's record (see `course_tools.sweep`); return the MLflow run id."""
        from mlflow.entities import Metric, Param

        tags = {
            "course.run": record["run"],
            "course.status": record["status"],
            "course.fingerprint": record.get("fingerprint", {}).get("id", "none"),
            **{f"course.{k}": str(v) for k, v in record.get("provenance", {}).items()},
        }
        if record.get("error"):
            tags["course.error"] = record["error"][:4000]
        run = self.client.create_run(self.experiment_id, run_name=record["run"], tags=tags)
        run_id = run.info.run_id
        ended = int(record.get("seconds", 0) * 1000)
        metrics = [
            Metric(k, float(v), run.info.start_time + ended, 0)
            for k, v in record["metrics"].items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        params = [Param(k, str(v)[:6000]) for k, v in record["parameters"].items()]
        self.client.log_batch(run_id, metrics=metrics, params=params)
        if Path(record["output"]).is_file():
            self.client.log_artifact(run_id, record["output"])
        self.client.set_terminated(run_id, status="FINISHED" if record["status"] == "ok" else "FAILED")
        return run_id
