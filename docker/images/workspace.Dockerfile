# docker/base-images.sh passes the Node image of the major pinned in .node-version.
ARG NODE_IMAGE
FROM ${NODE_IMAGE}
# Marks a workspace image (WORKSPACE_IMAGE_LABEL in packages/contracts): pool-manager lets callers ask
# only for images carrying it (main images built from this one inherit it) or ALLOWED_IMAGES entries.
LABEL berth.workspace-image=true
# Non-root user the workspace runs as; its home and /workspace are volumes at run time.
# /home/berth/.npm: where an owner's npm cache volume is mounted.
RUN echo 'berth:x:1000:1000:berth:/home/berth:/bin/bash' >> /etc/passwd \
 && echo 'berth:x:1000:' >> /etc/group \
 && mkdir -p /workspace /home/berth/.npm /run/berth && chown -R 1000:1000 /workspace /home/berth
# The berth agent (docker/agent/PROTOCOL.md) runs beside the main process, connects to
# pool-manager's /run/berth/agent.sock (a directory pool-manager mounts read-only) and runs the
# commands pool-manager sends, each under tini (/usr/bin/tini-static, from the base image) as a subreaper.
# agent/ holds only the agent's files (docker/base-images.sh copies them there).
COPY agent/ /opt/berth/
ENV HOME=/home/berth NODE_ENV=development
WORKDIR /workspace
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/berth/berth-agent-entrypoint.sh"]
CMD ["sleep", "infinity"]
