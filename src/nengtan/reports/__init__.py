"""Report generators: Excel (openpyxl) and PDF (reportlab) with charts (matplotlib)."""
