"""Metrics, traces and log context: what an operator sees of a running bot."""
