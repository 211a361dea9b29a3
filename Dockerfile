# Ankra Auth: build a wheel, then install it into a slim image that runs as non-root.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2
RUN useradd --system --create-home --home-dir /app --uid 10001 ankra
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels ankra-auth && rm -rf /wheels
USER ankra
WORKDIR /app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["ankra-auth", "serve", "--host", "0.0.0.0", "--port", "8000"]
