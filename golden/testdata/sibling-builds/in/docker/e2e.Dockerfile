FROM python:3.12-slim
COPY tests/ /tests/
CMD ["python", "-m", "unittest", "discover", "/tests"]
