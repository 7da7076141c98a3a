FROM python:3.12-slim AS base
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM base AS dev
COPY . .
CMD ["pytest", "-q", "tests/"]

FROM base
COPY src/ ./src/
EXPOSE 8000
CMD ["python", "-m", "src.app"]
