// A background job: it serves no port.
setInterval(() => console.log('tick'), 60000);
