ARG NODE_IMAGE=berth/node:22
FROM ${NODE_IMAGE}
# Non-root user the workspace runs as; its home and /workspace are volumes at run time.
# /home/berth/.npm exists so the shared npm cache volume mounted there starts owned by berth.
RUN echo 'berth:x:1000:1000:berth:/home/berth:/bin/bash' >> /etc/passwd \
 && echo 'berth:x:1000:' >> /etc/group \
 && mkdir -p /workspace /home/berth/.npm && chown -R 1000:1000 /workspace /home/berth
ENV HOME=/home/berth NODE_ENV=development
WORKDIR /workspace
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sleep", "infinity"]
