"""Report formatters apart from the data they format (DESIGN.md: `reports`).

Generators that read data and check access live in the domain apps; the modules here turn what
they return into files (docx in the layout of official documents, xlsx).
"""
