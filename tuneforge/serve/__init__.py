"""``tuneforge serve``: a FastAPI + uvicorn server for a run or an exported model."""
