// Setup's copy buttons: <button data-copy="ID"> copies the value of the input with that id.
// The pages work without it (the inputs are read-only and selectable).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  navigator.clipboard.writeText(field.value).then(
    () => { button.textContent = "Copied"; },
    () => { button.textContent = "Press Ctrl+C"; });
});
