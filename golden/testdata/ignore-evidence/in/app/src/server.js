require('express')().get('/health', (q, r) => r.send('ok')).listen(3000)
