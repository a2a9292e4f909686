ARG BASE_IMAGE=berth/base:bookworm
FROM ${BASE_IMAGE}
COPY node /usr/local/bin/node
# npm, npx and corepack (pnpm, yarn on demand) beside node, as the official node images have them.
COPY npm /usr/local/lib/node_modules/npm
COPY corepack /usr/local/lib/node_modules/corepack
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && if [ -f /usr/local/lib/node_modules/corepack/dist/corepack.js ]; then \
      ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack; fi \
 && /usr/local/bin/npm --version >/dev/null
ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production
CMD ["node"]
