// manifest.xml: schema validation with xmllint, and the strings users see in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const manifestPath = `${repo}manifest.xml`;
// ADDIN_SCHEMA_DIR points elsewhere when the repository is checked out without shared/ beside it.
const schemaDir = process.env.ADDIN_SCHEMA_DIR
  ? `${process.env.ADDIN_SCHEMA_DIR.replace(/\/?$/, '/')}`
  : fileURLToPath(new URL('../../../shared/schemas/office-addin/', import.meta.url));
const schema = `${schemaDir}OfficeAppManifestV1_1.xsd`;
const manifest = readFileSync(manifestPath, 'utf8');

function xmllint(args) {
  const run = spawnSync('xmllint', args, { encoding: 'utf8' });
  if (run.error && run.error.code === 'ENOENT') {
    assert.fail('xmllint is not installed (Debian package libxml2-utils); it is needed to validate manifest.xml');
  }
  return run;
}

test('manifest.xml validates against the Office add-in schema, offline', () => {
  assert.ok(existsSync(schema), `schema missing: ${schema} (expected shared/schemas/office-addin/ beside the repository)`);
  const run = xmllint(['--noout', '--nonet', '--schema', schema, manifestPath]);
  assert.equal(run.status, 0, `xmllint rejected manifest.xml:\n${run.stderr}`);
  assert.match(run.stderr, /validates/);
});

test('the schema check really rejects a broken manifest', () => {
  const broken = manifest.replace('<Permissions>ReadWriteItem</Permissions>', '<Permissions>EverythingPlease</Permissions>');
  assert.notEqual(broken, manifest);
  const run = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schema, '-'], { input: broken, encoding: 'utf8' });
  assert.notEqual(run.status, 0, 'xmllint accepted an invalid Permissions value');
});

/** Parses the manifest with xmllint --xpath so the checks read the XML, not the text. */
function xpath(expression) {
  const run = xmllint(['--nonet', '--xpath', expression, manifestPath]);
  return run.status === 0 ? run.stdout.trim() : '';
}
const local = (name) => `*[local-name()='${name}']`;

test('compose command: group, button, pinnable task pane, icons, permission, Mailbox 1.8', () => {
  assert.equal(xpath(`string(/${local('OfficeApp')}/@*[local-name()='type'])`), 'MailApp');
  assert.equal(xpath(`string(/${local('OfficeApp')}/${local('Permissions')})`), 'ReadWriteItem');
  const v11 = `//${local('VersionOverrides')}/${local('VersionOverrides')}`;
  assert.equal(xpath(`string(${v11}/@*[local-name()='type'])`), 'VersionOverridesV1_1');
  assert.equal(xpath(`string(${v11}/${local('Requirements')}/${local('Sets')}/@DefaultMinVersion)`), '1.8');
  assert.equal(xpath(`string(${v11}/${local('Requirements')}/${local('Sets')}/${local('Set')}/@Name)`), 'Mailbox');
  const point = `${v11}//${local('ExtensionPoint')}[@*[local-name()='type']='MessageComposeCommandSurface']`;
  assert.equal(xpath(`string(${point}//${local('Group')}/${local('Label')}/@resid)`), 'Group.Label');
  const button = `${point}//${local('Control')}[@*[local-name()='type']='Button']`;
  assert.equal(xpath(`string(${button}/${local('Label')}/@resid)`), 'SendSecure.Label');
  assert.equal(xpath(`string(${button}/${local('Action')}/@*[local-name()='type'])`), 'ShowTaskpane');
  assert.equal(xpath(`string(${button}/${local('Action')}/${local('SupportsPinning')})`), 'true');
  // Button icons: 16, 32 and 80 px required, 20, 24, 40, 48 and 64 px supported; each file really has that size.
  const pngSize = (file) => {
    const png = readFileSync(`${repo}addin/web/assets/${file}`);
    assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG', file);
    return [png.readUInt32BE(16), png.readUInt32BE(20)];
  };
  const buttonSizes = [16, 20, 24, 32, 40, 48, 64, 80];
  for (const overrides of [`//${local('VersionOverrides')}[@*[local-name()='type']='VersionOverridesV1_0']`, v11]) {
    const icon = `${overrides}/${local('Hosts')}//${local('Control')}[@*[local-name()='type']='Button']/${local('Icon')}`;
    assert.equal(xpath(`count(${icon}/${local('Image')})`), String(buttonSizes.length));
    for (const size of buttonSizes) {
      const resid = xpath(`string(${icon}/${local('Image')}[@size='${size}']/@resid)`);
      assert.ok(resid, `button icon ${size} px`);
      const url = xpath(`string(${overrides}/${local('Resources')}/${local('Images')}/${local('Image')}[@id='${resid}']/@DefaultValue)`);
      assert.match(url, /^https:\/\/localhost:5001\/addin\/assets\/icon-\d+\.png$/, `${resid} url`);
      assert.deepEqual(pngSize(url.split('/').pop()), [size, size], `${url} is ${size} px`);
    }
  }
  // The add-in's own icons: IconUrl 64 px, HighResolutionIconUrl 128 px.
  const iconUrl = xpath(`string(/${local('OfficeApp')}/${local('IconUrl')}/@DefaultValue)`);
  const highRes = xpath(`string(/${local('OfficeApp')}/${local('HighResolutionIconUrl')}/@DefaultValue)`);
  assert.deepEqual(pngSize(iconUrl.split('/').pop()), [64, 64], iconUrl);
  assert.deepEqual(pngSize(highRes.split('/').pop()), [128, 128], highRes);
});

test('labels exist in English (default) and Swedish, in every version override', () => {
  assert.equal(xpath(`string(/${local('OfficeApp')}/${local('DefaultLocale')})`), 'en-US');
  const expected = {
    'Group.Label': ['SecureMailbox', 'SecureMailbox'],
    'SendSecure.Label': ['Send secure', 'Skicka säkert'],
  };
  for (const version of ['VersionOverridesV1_0', 'VersionOverridesV1_1']) {
    const resources = `//${local('VersionOverrides')}[@*[local-name()='type']='${version}']/${local('Resources')}`;
    for (const [id, [english, swedish]] of Object.entries(expected)) {
      const string = `${resources}/${local('ShortStrings')}/${local('String')}[@id='${id}']`;
      assert.equal(xpath(`string(${string}/@DefaultValue)`), english, `${version} ${id} en-US`);
      assert.equal(xpath(`string(${string}/${local('Override')}[@Locale='sv-SE']/@Value)`), swedish, `${version} ${id} sv-SE`);
    }
    const tip = `${resources}/${local('LongStrings')}/${local('String')}[@id='SendSecure.Tooltip']`;
    assert.match(xpath(`string(${tip}/@DefaultValue)`), /mobile number/);
    assert.match(xpath(`string(${tip}/${local('Override')}[@Locale='sv-SE']/@Value)`), /mobilnummer/);
  }
  assert.match(xpath(`string(/${local('OfficeApp')}/${local('Description')}/${local('Override')}[@Locale='sv-SE']/@Value)`), /säkert/);
});

test('every URL uses the placeholder host the portal rewrites, over https', () => {
  const urls = [...manifest.matchAll(/https?:\/\/[^"<\s]+/g)].map((m) => m[0])
    .filter((url) => !url.startsWith('http://schemas.microsoft.com/') && !url.startsWith('http://www.w3.org/'));
  assert.ok(urls.length >= 8);
  for (const url of urls) assert.match(url, /^https:\/\/localhost:5001(\/|$)/, url);
  assert.match(manifest, /https:\/\/localhost:5001\/addin\/taskpane\.html/);
});
