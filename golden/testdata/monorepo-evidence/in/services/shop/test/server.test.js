require('node:test')('starts', () => {});
