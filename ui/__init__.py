"""The Streamlit pages' helpers: state, rendering, feedback widgets. The core stays headless."""
