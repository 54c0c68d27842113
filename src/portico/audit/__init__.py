"""The audit log: recording events with secrets redacted."""
