// The drawing pad of course_utils/drawpad.py (lesson 12), as a plain ES module that anywidget loads.
// It fetches nothing: everything it needs is in this file.
//
// The student draws with a mouse, a finger or a stylus (pointer events), or with the keyboard: the
// arrow keys move a cursor, Space or Enter puts the pen down and lifts it. After each stroke the pad
// shrinks the 280x280 canvas to `size` x `size` and sends it to Python as a plain list of numbers
// (ink 1, empty 0); Python classifies it and sends back `probabilities` and `message`, which the pad
// shows as a bar chart and a sentence (an ARIA live region: screen readers read it out). An uploaded
// photo goes to Python as grey values (white 1); the keys 0-9 and the Sample digit button ask Python
// for one of its sample digits (a custom message), which comes back as `pixels`.

const CSS = `
.course-drawpad { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; padding: 6px;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 14px;
  color: var(--jp-ui-font-color1, #222); }
.course-drawpad-left { display: flex; flex-direction: column; gap: 8px; }
.course-drawpad-frame { position: relative; width: 280px; height: 280px; border: 2px solid #888;
  border-radius: 6px; background: #fff; }
.course-drawpad-canvas { display: block; width: 100%; height: 100%; touch-action: none; cursor: crosshair; }
.course-drawpad-cursor { display: none; position: absolute; transform: translate(-50%, -50%);
  border: 2px solid #d9622b; border-radius: 50%; pointer-events: none; }
.course-drawpad-canvas:focus + .course-drawpad-cursor { display: block; }
.course-drawpad-cursor[data-pen="down"] { background: rgba(217, 98, 43, 0.4); }
.course-drawpad :focus-visible, .course-drawpad label:has(:focus-visible) {
  outline: 3px solid var(--jp-brand-color1, #1a5fb4); outline-offset: 2px; }
.course-drawpad-buttons { display: flex; gap: 8px; align-items: center; }
.course-drawpad-buttons button, .course-drawpad-buttons label { position: relative; padding: 4px 12px;
  border: 1px solid #888; border-radius: 4px; background: #f4f4f4; color: #222; cursor: pointer; font: inherit; }
.course-drawpad-upload { position: absolute; width: 1px; height: 1px; opacity: 0; }
.course-drawpad-help { width: 0; min-width: 100%; margin: 0; font-size: 12px; } /* as wide as the buttons */
.course-drawpad-pen { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
.course-drawpad-right { display: flex; flex-direction: column; gap: 8px; min-width: 300px; }
.course-drawpad-bars { display: flex; gap: 6px; align-items: flex-end; height: 200px;
  border-bottom: 1px solid #888; padding-top: 18px; }
.course-drawpad-bar { position: relative; width: 24px; height: 100%; display: flex; align-items: flex-end; }
.course-drawpad-fill { width: 100%; background: #9bb7d4; transition: height 0.2s; }
.course-drawpad-best .course-drawpad-fill { background: #d9622b; }
.course-drawpad-value { position: absolute; bottom: 100%; width: 100%; text-align: center; font-size: 10px; }
.course-drawpad-labels { display: flex; gap: 6px; }
.course-drawpad-labels span { width: 24px; text-align: center; font-weight: bold; }
.course-drawpad-message { min-height: 1.5em; max-width: 320px; }
`;

function make(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// Grey values (white 1) of an image, scaled down to at most `longest` pixels on its long side.
function greyValues(image, longest) {
  const scale = Math.min(1, longest / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const canvas = make("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // a transparent background counts as white paper
  context.fillRect(0, 0, width, height);
  context.drawImage(image, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const grey = new Array(width * height);
  for (let i = 0; i < grey.length; i++) {
    const value = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
    grey[i] = Math.round(value * 1000) / 1000;
  }
  return { grey, width, height };
}

async function loadImage(file) {
  if (window.createImageBitmap) return await createImageBitmap(file);
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
  const image = new Image();
  image.src = url;
  await image.decode();
  return image;
}

const HELP =
  "Keyboard: Tab to the pad; the arrow keys move the pen (with Shift: further), Space or Enter puts it " +
  "down and lifts it, and lifting it sends the stroke.";
const SAMPLE_HELP = " Keys 0-9 or the Sample digit button put a real digit on the pad.";
let views = 0; // for ids unique on the page

function render({ model, el }) {
  const root = make("div", "course-drawpad");
  const id = `course-drawpad-${++views}-${Math.random().toString(36).slice(2, 8)}`;
  const style = make("style");
  style.textContent = CSS;
  const left = make("div", "course-drawpad-left");
  const frame = make("div", "course-drawpad-frame");
  const canvas = make("canvas", "course-drawpad-canvas");
  const side = model.get("canvas_size");
  canvas.width = side;
  canvas.height = side;
  canvas.style.touchAction = "none";
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application"); // screen readers pass the keys on to the pad
  canvas.setAttribute("aria-label", "Drawing pad: draw a digit here");
  canvas.setAttribute("aria-describedby", `${id}-help`);
  const cursor = make("div", "course-drawpad-cursor");
  frame.append(canvas, cursor);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const buttons = make("div", "course-drawpad-buttons");
  const clear = make("button", "course-drawpad-clear", "Clear");
  clear.type = "button";
  const sample = make("button", "course-drawpad-sample", "Sample digit");
  sample.type = "button";
  const uploadLabel = make("label", "", "Upload a photo…");
  const upload = make("input", "course-drawpad-upload");
  upload.type = "file";
  upload.accept = "image/*";
  uploadLabel.appendChild(upload);
  const pen = make("span", "course-drawpad-pen"); // for screen readers only: the cursor shows it
  pen.setAttribute("aria-live", "polite");
  buttons.append(clear, sample, uploadLabel, pen);
  const help = make("p", "course-drawpad-help");
  help.id = `${id}-help`;
  left.append(frame, buttons, help);
  // JupyterLab's notebook shortcuts (1-6, arrows, Enter...) must not act on keys pressed in the pad.
  for (const element of [canvas, clear, sample, upload]) element.setAttribute("data-lm-suppress-shortcuts", "true");

  const right = make("div", "course-drawpad-right");
  const bars = make("div", "course-drawpad-bars");
  bars.setAttribute("role", "img"); // its aria-label says what the bars show
  const labels = make("div", "course-drawpad-labels");
  labels.setAttribute("aria-hidden", "true");
  const barOf = [];
  for (let k = 0; k < 10; k++) {
    const bar = make("div", "course-drawpad-bar");
    bar.dataset.digit = String(k);
    const fill = make("div", "course-drawpad-fill");
    const value = make("div", "course-drawpad-value");
    bar.append(value, fill);
    bars.appendChild(bar);
    labels.appendChild(make("span", "", String(k)));
    barOf.push({ bar, fill, value });
  }
  const message = make("div", "course-drawpad-message");
  message.setAttribute("role", "status");
  message.setAttribute("aria-live", "polite"); // a screen reader reads out each new prediction
  message.setAttribute("aria-atomic", "true");
  right.append(bars, labels, message);
  root.append(style, left, right);
  el.appendChild(root);

  function showBars() {
    const p = model.get("probabilities") || [];
    const best = p.length === 10 ? p.indexOf(Math.max(...p)) : -1;
    barOf.forEach(({ bar, fill, value }, k) => {
      const known = p.length === 10;
      bar.dataset.probability = known ? String(p[k]) : "";
      fill.style.height = known ? `${(100 * p[k]).toFixed(1)}%` : "0%";
      value.textContent = known && p[k] >= 0.01 ? `${Math.round(100 * p[k])}%` : "";
      bar.classList.toggle("course-drawpad-best", k === best);
    });
    const shown = p.map((q, k) => [q, k]).filter(([q]) => q >= 0.01);
    shown.sort((a, b) => b[0] - a[0]);
    const said = shown.map(([q, k]) => `${k}: ${Math.round(100 * q)}%`).join(", ");
    bars.setAttribute("aria-label", said ? `Probabilities of the digits, ${said}` : "No probabilities yet");
  }
  const showMessage = () => (message.textContent = model.get("message"));
  function showSamples() {
    sample.hidden = !model.get("sample_digits").length;
    help.textContent = HELP + (sample.hidden ? "" : SAMPLE_HELP);
  }
  uploadLabel.hidden = !model.get("photo_enabled");

  // Drawing: round black strokes `brush` px wide; a tap leaves a dot.
  let last = null; // the previous point of the stroke being drawn, or null between strokes
  let photoShown = false; // the canvas shows an uploaded photo: the next stroke starts afresh
  let sent = null; // the last pixels this view sent
  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * side) / box.width, ((event.clientY - box.top) * side) / box.height];
  }
  function line(from, to) {
    context.strokeStyle = "#000";
    context.lineWidth = model.get("brush");
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(from[0], from[1]);
    context.lineTo(to[0], to[1]);
    context.stroke();
  }
  function down(event) {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    if (photoShown) {
      context.clearRect(0, 0, side, side);
      photoShown = false;
    }
    last = point(event);
    line(last, last);
  }
  function move(event) {
    if (last === null) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const p = point(e);
      line(last, p);
      last = p;
    }
  }
  function up() {
    if (last === null) return;
    last = null;
    sendDrawing();
  }
  // The drawing as ink values (alpha: 1 where the brush went), shrunk to size x size, row by row.
  function sendDrawing() {
    const size = model.get("size");
    const small = make("canvas");
    small.width = size;
    small.height = size;
    const smallContext = small.getContext("2d");
    smallContext.imageSmoothingEnabled = true;
    smallContext.imageSmoothingQuality = "high";
    smallContext.drawImage(canvas, 0, 0, size, size);
    const rgba = smallContext.getImageData(0, 0, size, size).data;
    const pixels = new Array(size * size);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round((rgba[4 * i + 3] / 255) * 1000) / 1000;
    sent = pixels;
    model.set({ message: "Thinking…", pixels });
    model.save_changes();
  }
  // A drawing that Python put on the pad (pad.set_drawing), or the state when this view opens.
  function paintPixels() {
    const pixels = model.get("pixels") || [];
    if (pixels === sent) return; // this view's own stroke: already on the canvas
    context.clearRect(0, 0, side, side);
    photoShown = false;
    const size = model.get("size");
    if (pixels.length !== size * size) return;
    const small = make("canvas");
    small.width = size;
    small.height = size;
    const image = small.getContext("2d").createImageData(size, size);
    pixels.forEach((ink, i) => (image.data[4 * i + 3] = Math.round(255 * ink))); // black, ink as opacity
    small.getContext("2d").putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(small, 0, 0, side, side);
  }
  // The keyboard's pen: the cursor shows where it is; while it is down, each move draws a line.
  let at = [side / 2, side / 2];
  let penDown = false;
  function showCursor() {
    const diameter = (model.get("brush") * 100) / side;
    Object.assign(cursor.style, { width: `${diameter}%`, height: `${diameter}%` });
    Object.assign(cursor.style, { left: `${(100 * at[0]) / side}%`, top: `${(100 * at[1]) / side}%` });
    cursor.dataset.pen = penDown ? "down" : "up";
  }
  function putPen(down, send = true) {
    if (down === penDown) return;
    penDown = down;
    pen.textContent = down ? "Pen down" : "Pen up";
    if (down && photoShown) {
      context.clearRect(0, 0, side, side);
      photoShown = false;
    }
    if (down) line(at, at);
    else if (send) sendDrawing();
  }
  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  function key(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const arrow = ARROWS[event.key];
    if (arrow) {
      const step = ((event.shiftKey ? 4 : 1) * side) / 28;
      const to = at.map((v, i) => Math.min(side, Math.max(0, v + arrow[i] * step)));
      if (penDown) line(at, to);
      at = to;
    } else if (event.key === " " || event.key === "Enter") {
      putPen(!penDown);
    } else if (/^[0-9]$/.test(event.key) && model.get("sample_digits").includes(Number(event.key))) {
      putPen(false, false);
      model.send({ sample: Number(event.key) });
    } else return;
    event.preventDefault();
    showCursor();
  }
  function clearAll() {
    context.clearRect(0, 0, side, side);
    photoShown = false;
    last = null;
    putPen(false, false);
    sent = [];
    model.set({ pixels: sent, probabilities: [], message: model.get("prompt") });
    model.save_changes();
  }
  async function uploadPhoto() {
    const file = upload.files && upload.files[0];
    upload.value = ""; // choosing the same file again still counts as a new upload
    if (!file) return;
    try {
      const image = await loadImage(file);
      const { grey, width, height } = greyValues(image, model.get("photo_size"));
      const scale = Math.min(side / image.width, side / image.height);
      const w = image.width * scale;
      const h = image.height * scale;
      context.clearRect(0, 0, side, side);
      context.drawImage(image, (side - w) / 2, (side - h) / 2, w, h);
      photoShown = true;
      model.set({ message: "Reading the photo…", photo_shape: [height, width], photo: grey });
      model.save_changes();
    } catch (error) {
      model.set("message", `Could not read ${file.name} as an image (${error}).`);
      model.save_changes();
    }
  }

  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  canvas.addEventListener("lostpointercapture", up);
  canvas.addEventListener("keydown", key);
  canvas.addEventListener("blur", () => putPen(false));
  clear.addEventListener("click", clearAll);
  sample.addEventListener("click", () => model.send({ sample: null })); // Python puts its next sample on the pad
  upload.addEventListener("change", uploadPhoto);
  model.on("change:probabilities", showBars);
  model.on("change:message", showMessage);
  model.on("change:pixels", paintPixels);
  model.on("change:sample_digits", showSamples);
  paintPixels();
  showBars();
  showMessage();
  showSamples();
  showCursor();
  return () => {
    model.off("change:probabilities", showBars);
    model.off("change:message", showMessage);
    model.off("change:pixels", paintPixels);
    model.off("change:sample_digits", showSamples);
  };
}

export default { render };
