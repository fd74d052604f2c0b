/* global document, Chart */
// Draws each canvas that has a data-chart attribute, from the Chart.js configuration of the same id.
(() => {
  const configs = JSON.parse(document.getElementById('chart-data').textContent);
  for (const canvas of document.querySelectorAll('canvas[data-chart]')) {
    const config = configs[canvas.dataset.chart];
    if (config) new Chart(canvas, config);
  }
})();
