"""Faults injected into real processes: a database restart, a killed instance, a graceful
stop behind nginx, two SQLite writers, a full disk. Marked ``faults``; on by default."""
