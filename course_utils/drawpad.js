// The drawing pad of course_utils/drawpad.py (lesson 12), as a plain ES module that anywidget loads.
// It fetches nothing: everything it needs is in this file.
//
// The student draws with a mouse, a finger or a stylus (pointer events). After each stroke the pad
// shrinks the 280x280 canvas to `size` x `size` and sends it to Python as a plain list of numbers
// (ink 1, empty 0); Python classifies it and sends back `probabilities` and `message`, which the pad
// shows as a bar chart and a sentence. An uploaded photo goes to Python as grey values (white 1).

const CSS = `
.course-drawpad { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 14px;
  color: var(--jp-ui-font-color1, #222); }
.course-drawpad-left { display: flex; flex-direction: column; gap: 8px; }
.course-drawpad-canvas { width: 280px; height: 280px; background: #fff; border: 2px solid #888;
  border-radius: 6px; touch-action: none; cursor: crosshair; }
.course-drawpad-buttons { display: flex; gap: 8px; align-items: center; }
.course-drawpad-buttons button, .course-drawpad-buttons label { padding: 4px 12px; border: 1px solid #888;
  border-radius: 4px; background: #f4f4f4; cursor: pointer; font: inherit; }
.course-drawpad-upload { display: none; }
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

function render({ model, el }) {
  const root = make("div", "course-drawpad");
  const style = make("style");
  style.textContent = CSS;
  const left = make("div", "course-drawpad-left");
  const canvas = make("canvas", "course-drawpad-canvas");
  const side = model.get("canvas_size");
  canvas.width = side;
  canvas.height = side;
  canvas.style.touchAction = "none";
  canvas.setAttribute("aria-label", "drawing pad: draw a digit here");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const buttons = make("div", "course-drawpad-buttons");
  const clear = make("button", "course-drawpad-clear", "Clear");
  clear.type = "button";
  const uploadLabel = make("label", "", "Upload a photo…");
  const upload = make("input", "course-drawpad-upload");
  upload.type = "file";
  upload.accept = "image/*";
  uploadLabel.appendChild(upload);
  buttons.append(clear, uploadLabel);
  left.append(canvas, buttons);

  const right = make("div", "course-drawpad-right");
  const bars = make("div", "course-drawpad-bars");
  const labels = make("div", "course-drawpad-labels");
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
  }
  const showMessage = () => (message.textContent = model.get("message"));
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
  function clearAll() {
    context.clearRect(0, 0, side, side);
    photoShown = false;
    last = null;
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
  clear.addEventListener("click", clearAll);
  upload.addEventListener("change", uploadPhoto);
  model.on("change:probabilities", showBars);
  model.on("change:message", showMessage);
  model.on("change:pixels", paintPixels);
  paintPixels();
  showBars();
  showMessage();
  return () => {
    model.off("change:probabilities", showBars);
    model.off("change:message", showMessage);
    model.off("change:pixels", paintPixels);
  };
}

export default { render };
