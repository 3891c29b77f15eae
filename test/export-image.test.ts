import { strict as assert } from 'assert';
import { closeFigureExporter, exporterRunning, exportStaticImages, lineFigure, setExporterIdleMs } from 'prune-at-init';

/** Width and height from a PNG's IHDR chunk (bytes 16..23), read independently of the exporter. */
function pngSize(b: Buffer): { width: number; height: number } {
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Busy-wait: a long synchronous computation that keeps the event loop (and its timers) from running. */
function blockEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* blocked */ }
}

describe('figure exporter: closing never interrupts an export', function () {
  this.timeout(120000);
  const fig = lineFigure([{ name: 'a', x: [1, 2, 3], y: [1, 4, 9] }], { width: 300, height: 200 });
  const opts = { width: 300, height: 200, scale: 1 };
  afterEach(async () => { setExporterIdleMs(15000); await closeFigureExporter(); });

  it('closeFigureExporter() called while an export runs waits for it, then closes the browser', async () => {
    assert.ok(await exportStaticImages(fig, opts)); // browser open
    const pending = exportStaticImages(fig, opts);
    await new Promise((r) => setTimeout(r, 20)); // the export is now inside the browser
    const closed = closeFigureExporter();
    const img = await pending;
    assert.ok(img, 'the export in flight was interrupted by the close');
    assert.deepEqual(pngSize(img.png), { width: 300, height: 200 });
    await closed;
    assert.equal(exporterRunning(), false);
  });

  it('an idle deadline passed during a blocked event loop does not close the browser under the next exports', async () => {
    setExporterIdleMs(30);
    assert.ok(await exportStaticImages(fig, opts));
    for (let i = 0; i < 3; i++) {
      blockEventLoop(120); // the idle timer is now overdue: it fires as soon as the loop turns
      const [a, b] = await Promise.all([exportStaticImages(fig, opts), exportStaticImages(fig, opts)]);
      assert.ok(a && b, `round ${i}: an export returned no image`);
      assert.deepEqual([pngSize(a.png), pngSize(b.png)], [{ width: 300, height: 200 }, { width: 300, height: 200 }]);
    }
    // and once really idle, the browser is closed by the timer
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(exporterRunning(), false);
  });
});
