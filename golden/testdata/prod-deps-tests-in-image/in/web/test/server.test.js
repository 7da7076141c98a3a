test('loads', () => { expect(require('../package.json').name).toBe('web'); });
