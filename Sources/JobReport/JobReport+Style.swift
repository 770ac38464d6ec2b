extension JobReport {
    /// The page's style: state colours as in `script`'s legend.
    static let style = #"""
        body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 16px 24px;color:#1d232b;background:#fff}
        h1{font-size:20px;margin:12px 0 2px}h2{font-size:15px;margin:18px 0 6px;border-bottom:1px solid #dde2e8;padding-bottom:3px}
        #window{margin:0;color:#5b6573}
        ul#summary,ul#file-summary{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:6px}
        ul#summary li,ul#file-summary li{border-radius:4px;padding:2px 8px;background:#eef1f5}
        li b{font-size:15px;margin-right:4px}
        li[data-state=SUCCEEDED],li[data-state=COMPLETE]{background:#d7f0e1}li[data-state=FAILED]{background:#f8d9d9}
        li[data-state=RUNNABLE],li[data-state=PENDING]{background:#fcefc9}li[data-state=RUNNING],li[data-state=STARTING]{background:#d6e7f8}
        .legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:14px;height:9px;margin-right:4px;vertical-align:middle}
        #timeline-box{overflow:auto;max-height:70vh}svg text{font:11px system-ui,sans-serif;fill:#1d232b}svg .axis text{fill:#5b6573}
        svg .axis line{stroke:#e4e8ee}svg g.job:hover rect.row{fill:#eef3fa}
        .queue{display:inline-block;margin:0 14px 10px 0;vertical-align:top}.queue h3{font-size:12px;margin:0}
        table{border-collapse:collapse;margin:4px 0 10px}th,td{text-align:left;padding:2px 8px;border-bottom:1px solid #eef1f5;vertical-align:top}
        th{font-weight:600;background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
        tr[data-state=FAILED] td:first-child,tr[data-outcome=failed] td:first-child{border-left:3px solid #d64545}
        tr[data-outcome=retried] td:first-child{border-left:3px solid #ef8a33}tr[data-state=COMPLETE] td:first-child{border-left:3px solid #2e9e5b}
        .bar{display:inline-block;width:160px;height:9px;background:#e4e8ee;vertical-align:middle}.bar i{display:inline-block;height:9px}
        a.log,span.log,code{font:12px ui-monospace,monospace}.empty,.more{color:#5b6573}footer{color:#8a93a0;margin-top:12px}
        """#
}
