"""Benchmark models: definitions, references and export descriptions."""
