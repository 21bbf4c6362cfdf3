"""Streamlit helpers shared by the pages (app.py and pages/); the retrieval core never imports
Streamlit, so anything that draws on a page lives here."""
