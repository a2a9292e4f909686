ARG NODE_IMAGE=berth/node:22
FROM ${NODE_IMAGE}
# Non-root user the workspace runs as; its home and /workspace are volumes at run time.
RUN echo 'berth:x:1000:1000:berth:/home/berth:/bin/bash' >> /etc/passwd \
 && echo 'berth:x:1000:' >> /etc/group \
 && mkdir -p /workspace /home/berth /run/berth && chown 1000:1000 /workspace /home/berth
# The berth agent (docker/agent/PROTOCOL.md): runs the main process and, on /run/berth/agent.sock
# (a directory pool-manager mounts), the commands pool-manager sends, so they skip `docker exec`.
COPY agent/berth-agent.mjs /opt/berth/berth-agent.mjs
ENV HOME=/home/berth NODE_ENV=development
WORKDIR /workspace
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/berth/berth-agent.mjs", "--"]
CMD ["sleep", "infinity"]
