"""The report stage: report.json read and written (``results_file``), the view the
human-readable formats share (``view``), each format's renderer, SVG charts and escaping.
Renderers return strings; files are written in one place.
"""
