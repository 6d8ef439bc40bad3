/// The page's inline stylesheet and script.
enum PageAssets {
    static let css = """
        :root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f4f6f9;--card:#fff;--bad:#c81e1e}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
        main{max-width:1240px;margin:0 auto;padding:22px 24px 40px}
        h1{font-size:22px;margin:0 0 6px;letter-spacing:-.01em}
        .summary{font-size:17px;margin:0 0 4px}
        .meta{color:var(--muted);font-size:13px;margin:0}
        .kpis{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 4px}
        .kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:112px}
        .kpi b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
        .kpi span{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.05em}
        .kpi.bad b{color:var(--bad)}
        section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px 14px;margin:14px 0;min-width:0}
        h2{font-size:16px;margin:0 0 2px}
        p.note{margin:0 0 10px;color:var(--muted);font-size:12.5px}
        .grid2{display:grid;grid-template-columns:1fr 1fr;gap:14px;align-items:start}
        .grid2 section{margin:0}
        @media (max-width:960px){.grid2{grid-template-columns:1fr}}
        .scroll{overflow-x:auto}
        svg.chart{width:100%;height:auto;display:block;overflow:visible}
        svg text{font-size:12px;fill:#3e4c59}
        .axis text{font-size:11px;fill:#7b8794;font-variant-numeric:tabular-nums}
        .axis .grid{stroke:#edf0f3}
        .axis .domain{stroke:#9aa5b1}
        .axis-title{font-size:12px!important;fill:#52606d!important}
        .empty{font-size:14px;fill:#9aa5b1;font-style:italic}
        .row-label{font-size:12px;fill:#323f4b}
        .muted-label{font-size:11px;fill:#9aa5b1}
        .row-sep{stroke:#f0f2f5}
        .band{fill:#f7f9fb}
        .panel-title{font-size:12.5px;font-weight:600;fill:#323f4b}
        .nodata{fill:#fafbfc;stroke:#edf0f3}
        .pp-label{font-size:12px;font-weight:600}
        .pp-label.bad,.bad{fill:var(--bad);color:var(--bad);font-weight:600}
        .best-label{font-size:11px;font-weight:600;fill:#1f2933}
        .concurrency{fill:#2f6fde;fill-opacity:.18;stroke:#2f6fde;stroke-width:1.5}
        .now{stroke:#2f6fde;stroke-dasharray:3 3}
        .now-label{font-size:10px;fill:#2f6fde}
        .bar.running{fill-opacity:.75;stroke:#2f6fde;stroke-dasharray:4 2}
        table.lb{width:100%;border-collapse:collapse;font-size:13px}
        table.lb th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;border-bottom:2px solid var(--line);padding:6px 8px;white-space:nowrap}
        .js table.lb th{cursor:pointer;user-select:none}
        table.lb th[aria-sort=ascending]::after{content:" ▲"}
        table.lb th[aria-sort=descending]::after{content:" ▼"}
        table.lb td{border-bottom:1px solid var(--line);padding:7px 8px;vertical-align:top}
        table.lb .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        table.lb tbody tr{cursor:pointer}
        table.lb tbody tr:hover td{background:#f8fafc}
        table.lb tr.sel td{background:#e8f0fe}
        table.lb .nowrap{white-space:nowrap}
        td.empty{color:var(--muted);font-style:italic;text-align:center}
        .score{font-weight:600}
        .ci,.muted{color:var(--muted);font-size:12px}
        svg.ib{width:120px;height:14px;display:inline-block;vertical-align:middle;margin-top:2px}
        .ib-track{stroke:#e4e7eb;stroke-width:1}
        .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
        .rat{color:var(--muted);font-size:12px;max-width:360px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .st,.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11.5px;white-space:nowrap;background:#eef1f4;color:#3e4c59}
        .st-completed{background:#e3f4ea;color:#1e7a45}.st-in_progress{background:#e6eefc;color:#2456b8}
        .st-failed{background:#fde8e8;color:var(--bad)}.st-abandoned{background:#f1f1f1;color:#6b6b6b}
        .badge{margin:0 3px 3px 0}
        .why{font-size:11.5px;color:var(--muted);max-width:340px;white-space:normal;margin-top:3px}
        .f-overfit,.f-failed,.f-mismatch,.f-unreproducible{background:#fde8e8;color:var(--bad);font-weight:600;border:1px solid #f5b5b5}
        .f-reproduced{background:#e6f4ea;color:#1e6b34}
        .f-budget_exhausted{background:#fff4e0;color:#965a00}
        .f-no_submission,.f-abandoned{background:#f1f3f5;color:#616e7c}
        .pick,[data-dir]{cursor:pointer}
        .dim{opacity:.12}
        .pt.sel{stroke:#1f2933;stroke-width:1.5}
        .controls{margin:14px 0 6px;font-size:13px}
        select{font:inherit;padding:4px 6px;border:1px solid #cbd2d9;border-radius:6px;background:#fff;max-width:100%}
        html:not(.js) .js-only{display:none}
        #tip{position:fixed;pointer-events:none;background:rgba(31,41,51,.95);color:#fff;padding:6px 9px;border-radius:6px;font-size:12px;line-height:1.4;white-space:pre-line;display:none;z-index:10;max-width:420px;box-shadow:0 2px 8px rgba(0,0,0,.2)}
        footer{color:var(--muted);font-size:12px;margin-top:18px}
        .diag pre{white-space:pre-wrap;font-size:11px}
        """

    static let script = """
        (function(){
        var d=document;
        try{
        d.documentElement.classList.add('js');
        var D=JSON.parse(d.getElementById('dashboard-data').textContent);
        function esc(s){return String(s).replace(/[&<>"']/g,function(c){return '&#'+c.charCodeAt(0)+';'})}
        d.querySelectorAll('svg title').forEach(function(t){var p=t.parentNode;p.setAttribute('data-tip',t.textContent);p.removeChild(t)});
        var tip=d.getElementById('tip');
        d.addEventListener('mousemove',function(e){
          var el=e.target.closest?e.target.closest('[data-tip]'):null;
          if(!el){tip.style.display='none';return}
          tip.textContent=el.getAttribute('data-tip');tip.style.display='block';
          var x=e.clientX+14,y=e.clientY+14;
          if(x+tip.offsetWidth>innerWidth-8)x=e.clientX-tip.offsetWidth-14;
          if(y+tip.offsetHeight>innerHeight-8)y=e.clientY-tip.offsetHeight-14;
          tip.style.left=x+'px';tip.style.top=y+'px'});
        var selected=null;
        function highlight(dir){
          selected=selected===dir?null:dir;
          d.querySelectorAll('[data-dir]').forEach(function(el){
            var on=el.getAttribute('data-dir')===selected;
            el.classList.toggle('sel',selected!==null&&on);
            el.classList.toggle('dim',selected!==null&&!on&&el.tagName!=='TR')})}
        d.addEventListener('click',function(e){
          var el=e.target.closest?e.target.closest('[data-dir]'):null;
          if(el&&!e.target.closest('th'))highlight(el.getAttribute('data-dir'))});
        d.addEventListener('keydown',function(e){
          var el=e.target;if((e.key==='Enter'||e.key===' ')&&el.tagName==='TR'&&el.hasAttribute('data-dir')){e.preventDefault();highlight(el.getAttribute('data-dir'))}});
        d.querySelectorAll('table.sortable').forEach(function(table){
          var heads=table.tHead.rows[0].cells;
          [].forEach.call(heads,function(th,i){th.addEventListener('click',function(){
            var asc=th.getAttribute('aria-sort')!=='ascending';
            [].forEach.call(heads,function(h){h.removeAttribute('aria-sort')});
            th.setAttribute('aria-sort',asc?'ascending':'descending');
            var body=table.tBodies[0],rows=[].slice.call(body.rows).filter(function(r){return r.cells.length>1});
            function key(r){var v=r.cells[i].getAttribute('data-v');return v===null?'':v}
            rows.sort(function(a,b){
              var x=key(a),y=key(b);
              if(x===''||y==='')return x===y?0:(x===''?1:-1);
              var nx=Number(x),ny=Number(y),c=(isFinite(nx)&&isFinite(ny))?nx-ny:x.localeCompare(y);
              return asc?c:-c});
            rows.forEach(function(r){body.appendChild(r)})})})});
        function scale(lo,hi,n,pad,minStep){
          var span=hi-lo;
          if(!(span>1e-12*Math.max(1,Math.abs(lo)))){var w=lo===0?1:Math.abs(lo)*0.05;lo-=w;hi+=w}else{lo-=span*pad;hi+=span*pad}
          var raw=(hi-lo)/n,mag=Math.pow(10,Math.floor(Math.log10(raw))),f=raw/mag;
          var step=Math.max((f<1.5?1:f<3?2:f<7?5:10)*mag,minStep),ticks=[];
          for(var i=Math.ceil(lo/step-1e-9);i*step<=hi+step*1e-9&&ticks.length<50;i++)ticks.push(i*step);
          return {lo:lo,hi:hi,ticks:ticks,dec:Math.max(0,Math.ceil(-Math.log10(step)-1e-9))}}
        var ex=d.getElementById('curve-explorer'),picker=d.getElementById('curve-run');
        function drawRun(id){
          var run=D.runs.filter(function(r){return String(r.id)===String(id)})[0];
          if(!ex)return;if(!run){ex.innerHTML='';return}
          var W=1100,L=64,R=W-24,T=58,B=250-42,s='',keys=Object.keys(run.curves).sort(),pts=[];
          keys.forEach(function(k){run.curves[k].forEach(function(p){pts.push(p)})});
          s+='<rect x="12" y="8" width="11" height="11" rx="2" fill="'+esc(D.colors[run.direction]||'#7f7f7f')+'"></rect>';
          s+='<text x="30" y="18" class="panel-title" data-tip="'+esc(run.tip)+'">'+esc(run.direction+' · #'+run.id+' '+run.name+' · '+run.status)+'</text>';
          if(!pts.length){ex.innerHTML=s+'<text x="550" y="130" text-anchor="middle" class="empty">No curves logged for this run</text>';return}
          var xsS=pts.map(function(p){return p[0]}),ysS=pts.map(function(p){return p[1]});
          var X=scale(Math.min.apply(null,xsS),Math.max.apply(null,xsS),8,0,1),Y=scale(Math.min.apply(null,ysS),Math.max.apply(null,ysS),5,0.05,0);
          function sx(v){return (L+(v-X.lo)/(X.hi-X.lo)*(R-L)).toFixed(1)}
          function sy(v){return (B-(v-Y.lo)/(Y.hi-Y.lo)*(B-T)).toFixed(1)}
          var lx=30;
          keys.forEach(function(k){var c=esc(D.keyColors[k]||'#000');
            s+='<line x1="'+lx+'" y1="36" x2="'+(lx+16)+'" y2="36" stroke="'+c+'" stroke-width="2"></line><text x="'+(lx+20)+'" y="40">'+esc(k)+'</text>';lx+=36+k.length*6.6});
          s+='<g class="axis">';
          Y.ticks.forEach(function(v){s+='<line class="grid" x1="'+L+'" x2="'+R+'" y1="'+sy(v)+'" y2="'+sy(v)+'"></line><text x="'+(L-6)+'" y="'+(+sy(v)+3.5)+'" text-anchor="end">'+v.toFixed(Y.dec)+'</text>'});
          X.ticks.forEach(function(v){s+='<line class="grid" x1="'+sx(v)+'" x2="'+sx(v)+'" y1="'+T+'" y2="'+B+'"></line><text x="'+sx(v)+'" y="'+(B+15)+'" text-anchor="middle">'+v.toFixed(X.dec)+'</text>'});
          s+='<line class="domain" x1="'+L+'" x2="'+R+'" y1="'+B+'" y2="'+B+'"></line><line class="domain" x1="'+L+'" x2="'+L+'" y1="'+T+'" y2="'+B+'"></line>';
          s+='<text class="axis-title" x="'+((L+R)/2)+'" y="'+(B+33)+'" text-anchor="middle">step</text></g>';
          keys.forEach(function(k){var p=run.curves[k],c=esc(D.keyColors[k]||'#000'),last=p[p.length-1];
            var t=esc(k+': last '+last[1].toFixed(4)+' at step '+last[0]+' · '+p.length+' points');
            if(p.length===1){s+='<circle cx="'+sx(last[0])+'" cy="'+sy(last[1])+'" r="3.5" fill="'+c+'" data-tip="'+t+'"></circle>';return}
            s+='<path fill="none" stroke="'+c+'" stroke-width="2" stroke-linejoin="round" data-tip="'+t+'" d="'+p.map(function(q,i){return (i?'L':'M')+sx(q[0])+' '+sy(q[1])}).join('')+'"></path>'});
          ex.innerHTML=s}
        if(picker){picker.addEventListener('change',function(){drawRun(picker.value)});drawRun(picker.value)}
        var report={};
        ['chart-leaderboard','chart-progression','chart-public-private','chart-distribution','chart-curves','curve-explorer','chart-timeline'].forEach(function(id){
          var el=d.getElementById(id);if(!el){report[id]=null;return}
          var r={circle:el.querySelectorAll('circle').length,path:el.querySelectorAll('path').length,rect:el.querySelectorAll('rect').length};
          if(el.tagName==='TABLE')r.rows=el.querySelectorAll('tbody tr[data-dir]').length;
          report[id]=r});
        report.runs=D.runs.length;report.height=d.documentElement.scrollHeight;
        d.getElementById('render-report').textContent=JSON.stringify(report);
        d.body.dataset.rendered='ok';
        }catch(err){d.body.dataset.rendered='error: '+err;var rep=d.getElementById('render-report');if(rep)rep.textContent='error: '+err}
        })();
        """
}
