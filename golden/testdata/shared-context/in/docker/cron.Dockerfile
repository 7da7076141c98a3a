FROM alpine:3.20
RUN apk update && apk add curl
COPY scripts/cron.sh /cron.sh
CMD /cron.sh
