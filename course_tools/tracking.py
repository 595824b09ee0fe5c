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
            raise TrackingError(
                f"cannot reach the MLflow tracking URI {uri!r} ({type(err).__name__}: {first_line(err)}); "
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
        if record.get("stale"):
            tags["course.stale"] = "true"  # kept with --reuse-stale: made from other code
        provenance = record.get("provenance", {})
        started, ended = _milliseconds(provenance.get("started")), _milliseconds(provenance.get("ended"))
        run = self.client.create_run(self.experiment_id, start_time=started, run_name=record["run"], tags=tags)
        run_id = run.info.run_id
        metrics = [
            Metric(k, float(v), ended or run.info.start_time, 0)
            for k, v in record["metrics"].items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        params = [Param(k, str(v)[:6000]) for k, v in record["parameters"].items()]
        self.client.log_batch(run_id, metrics=metrics, params=params)
        if Path(record["output"]).is_file():
            self.client.log_artifact(run_id, record["output"])
        self.client.set_terminated(run_id, status="FINISHED" if record["status"] == "ok" else "FAILED", end_time=ended)
        replaced = record.get("replaces mlflow") or {}
        if replaced.get("uri") == self.uri:  # the run this one redid: out of the way (MLflow's deleted runs)
            try:
                self.client.delete_run(replaced["run"])
            except Exception:
                pass  # already deleted, or deleted by hand: nothing to replace
        return run_id


def _milliseconds(iso_time: str | None) -> int | None:
    """An ISO time as MLflow's milliseconds since 1970, None if there is none."""
    from datetime import datetime

    return int(datetime.fromisoformat(iso_time).timestamp() * 1000) if iso_time else None


def first_line(error: Exception, limit: int = 300) -> str:
    """An error's first line, cut at a word (where MLflow's are long, the cause is at the end)."""
    text = " ".join(str(error).split())
    if len(text) <= limit:
        return text
    return text[: limit // 2].rsplit(" ", 1)[0] + " ... " + text[-limit // 2 :].split(" ", 1)[-1]
