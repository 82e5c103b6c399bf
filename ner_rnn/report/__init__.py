"""What a trained model does: span error analysis, training curves and HTML pages.

Only `analysis.build_report` loads torch (it makes the predictions); the taxonomy, the
training log, the charts and the HTML helpers are plain Python.
"""
