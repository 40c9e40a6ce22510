import { loadConfigFile } from '../src/config-file';
test('the committed example config is valid', () => {
  const result = loadConfigFile(`${__dirname}/../aspera.config.json`);
  expect(result).toMatchObject({ ok: true });
});
