require('node:test')('ok', () => {})
