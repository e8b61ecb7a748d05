# One image for every role: api, worker, relay, migrate (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY commands ./commands
COPY eventstore ./eventstore
COPY projections ./projections
COPY api ./api
COPY tasks ./tasks
COPY integrations ./integrations
COPY worker_runs ./worker_runs
RUN pip install --no-cache-dir '.[postgres,server]'

RUN useradd --system --uid 10001 worker-runs
USER worker-runs
EXPOSE 8000
CMD ["worker-runs", "--help"]
