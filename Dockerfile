# rdscan container image: docs/scheduling.md "Container image" (checked by tests/scheduling).
# Build stage: a virtual environment with rdscan and its dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py ./
COPY scanner ./scanner
COPY report_templates ./report_templates
COPY policies ./policies
RUN python -m venv /opt/rdscan && /opt/rdscan/bin/pip install --no-cache-dir .

# Run stage: the virtual environment only, a non-root user, the history on a volume.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/rdscan --create-home rdscan
COPY --from=build /opt/rdscan /opt/rdscan
ENV PATH=/opt/rdscan/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RDSCAN_HISTORY=/var/lib/rdscan/history.sqlite \
    RDSCAN_OUTPUT_DIR=/var/lib/rdscan/report
USER 10001:10001
WORKDIR /var/lib/rdscan
VOLUME ["/var/lib/rdscan"]
ENTRYPOINT ["rdscan"]
CMD ["scan", "--quiet"]
