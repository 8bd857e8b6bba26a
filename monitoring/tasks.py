"""Celery discovers ``<app>.tasks``: the export jobs live in monitoring.exports."""

from .exports.tasks import run_export_job

__all__ = ["run_export_job"]
