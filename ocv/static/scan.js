// The desk's camera: reads a voter card's QR code (OCV:<election>:<number>) where the
// browser has BarcodeDetector, puts its text in the search box and sends the search.
// Typing stays the way in: the box is there with or without this file, or a camera.
(() => {
  const input = document.querySelector("input[data-scan]");
  if (!input || !("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  const start = document.createElement("button");
  start.type = "button";
  start.className = "secondary scan";
  start.textContent = input.dataset.scanLabel;
  const stop = document.createElement("button");
  stop.type = "button";
  stop.className = "secondary scan";
  stop.textContent = input.dataset.scanStop;
  stop.hidden = true;
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.hidden = true;
  video.className = "scan";
  video.setAttribute("aria-label", input.dataset.scanLabel);
  const said = document.createElement("p");
  said.setAttribute("role", "status");
  said.className = "small";
  input.form.append(start, stop, video, said);
  let stream = null;

  const end = () => {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
    start.focus();
  };

  start.addEventListener("click", async () => {
    let detector;
    try {
      const formats = await BarcodeDetector.getSupportedFormats();
      if (!formats.includes("qr_code")) throw new Error("no QR codes");
      detector = new BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch {
      said.textContent = input.dataset.scanFailed;
      input.focus();
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    start.hidden = true;
    stop.hidden = false;
    stop.focus();
    await video.play();
    const look = async () => {
      if (!stream) return;
      try {
        const codes = await detector.detect(video);
        const card = codes.find((code) => code.rawValue.startsWith("OCV:"));
        if (card) {
          input.value = card.rawValue;
          end();
          input.form.requestSubmit();
          return;
        }
      } catch {
        // a frame not ready yet: try the next one
      }
      setTimeout(look, 200);
    };
    look();
  });
  stop.addEventListener("click", end);
})();
