import json,sys,statistics as st
# Markdown summary of a validation study: per method, seeds whose runs reached the common epoch count.
def summ(path, title):
    d=json.load(open(path+'/compare.json'))
    key='val_acc'
    runs=[r for r in d['runs'] if r.get('epochs')]
    by={}
    for r in runs: by.setdefault(r['method'],{})[r['seed']]=r
    seeds=sorted(set.intersection(*[set(v) for v in by.values()]))
    E=min(len(r['epochs']) for m in by for s,r in by[m].items() if s in seeds)
    N=d['train_samples']; tg=d['config']['targets']
    base=by['uniform']
    def g(r): return {e['grid_samples']:e[key] for e in (r.get('evals') or [])}
    lim=base[seeds[0]]['epochs'][E-1]['samples_seen']
    print(f"\n**{title}** — seeds {','.join(map(str,seeds))}, first {E} epochs ({lim:,} uniform samples); validation accuracy\n")
    print("| method | worst dip below uniform (mean over seeds; worst seed) | val acc after epoch "+str(E)+" | "+" | ".join(f"samples to {t}: ratio uniform/method" for t in tg)+" |")
    print("|---|---|---|"+"---|"*len(tg))
    for m,rs in by.items():
        dips=[];fin=[]
        for s in seeds:
            r=rs[s]; gb=g(base[s]); gr=g(r)
            dd=[gr[k]-gb[k] for k in gr if k in gb and N<k<=lim]
            if m!='uniform': dips.append(min(dd))
            fin.append(r['epochs'][E-1][key])
        cells=[]
        for ti,t in enumerate(tg):
            rat=[];miss=0
            for s in seeds:
                def first(r):
                    for e in r.get('evals') or []:
                        if e['grid_samples']<=lim and e[key]>=t: return e['grid_samples']
                a=first(base[s]); b=first(rs[s])
                if a and b: rat.append(a/b)
                elif b and not a: miss+=1
            c=f"{st.mean(rat):.2f}× ({len(rat)} seeds)" if rat else "—"
            if miss: c+=f"; uniform missed on {miss}"
            cells.append(c)
        dip="(baseline)" if m=='uniform' else f"{100*st.mean(dips):+.2f} pt; {100*min(dips):+.2f}"
        print(f"| {m} | {dip} | {st.mean(fin):.4f} | "+" | ".join(cells)+" |")
for a in sys.argv[1:]:
    p,t=a.split('=',1); summ(p,t)
