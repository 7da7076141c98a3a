test('builds', () => { expect(require('../package.json').scripts.build).toBe('tsc'); });
