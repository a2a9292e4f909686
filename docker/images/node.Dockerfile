ARG BASE_IMAGE=berth/base:bookworm
FROM ${BASE_IMAGE}
COPY node /usr/local/bin/node
ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production
CMD ["node"]
