/** Chart layout helpers, kept apart from charts.ts so that pages can use them without loading ECharts. */

/**
 * A horizontal bar chart's layout: the category names get a column of their
 * own, cut with an ellipsis when longer (the table under each chart has them
 * whole), so that no name runs off the card.
 */
export function labelColumn(width: number) {
  return {
    grid: { left: width + 12, right: 16, top: 32, bottom: 24 },
    axisLabel: { width, overflow: 'truncate' as const, ellipsis: '…' },
  };
}
