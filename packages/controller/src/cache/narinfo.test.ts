import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { narFileOf, parseNarinfo } from './narinfo.js';

const NARINFO = `StorePath: /nix/store/zr2knphxg8yyy2mkq8akf2hfknjvdiz7-x
URL: nar/0qk0rv9dk5vfdxb91cq2298y6g818wmqi9xvnnnppqw5iba8azdj.nar.zst
Compression: zstd
FileHash: sha256:0qk0rv9dk5vfdxb91cq2298y6g818wmqi9xvnnnppqw5iba8azdj
FileSize: 88
NarHash: sha256:1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h
NarSize: 120
References: 
Deriver: mh3rz2qzm0lrcxk22g2b1kifak7q2nj9-x.drv
Sig: test-1:DaIQVaCypbngmLrF5Z4mi/2dw+DIewo9+AJzXVsXAUZiXFW9/S//SK/KXf5govJafed03C7hilYYB0T66xrlCA==
`;

describe('narinfo', () => {
  it('reads the fields nix copy writes', () => {
    const fields = parseNarinfo(NARINFO);
    assert.equal(fields.get('StorePath'), '/nix/store/zr2knphxg8yyy2mkq8akf2hfknjvdiz7-x');
    assert.equal(fields.get('Compression'), 'zstd');
    assert.equal(fields.get('References'), '');
    assert.ok(fields.get('Sig')?.startsWith('test-1:'));
  });

  it('finds the NAR file and refuses URLs outside nar/', () => {
    assert.equal(
      narFileOf(NARINFO),
      '0qk0rv9dk5vfdxb91cq2298y6g818wmqi9xvnnnppqw5iba8azdj.nar.zst',
    );
    assert.equal(narFileOf(NARINFO.replace('URL: nar/', 'URL: ../')), undefined);
    assert.equal(narFileOf(NARINFO.replace('URL: nar/', 'URL: nar/../')), undefined);
    assert.equal(narFileOf('StorePath: /nix/store/x\n'), undefined);
  });
});
