/**
 * SQLite FTS5's default tokenizer (unicode61, remove_diacritics 1) as data, so that PostgreSQL
 * splits and folds text exactly as the SQLite search index does and `docker search` answers the
 * same on both: which code points separate tokens (everything not a letter, digit or private-use
 * character of Unicode 6.1, plus some combining marks) and how token characters fold (lower case,
 * Latin diacritics dropped, some combining marks removed). Read off SQLite 3.53's FTS5 for every
 * code point; search-index.test.ts checks it against FTS5 itself. The document side of the
 * PostgreSQL index is SQL built from this (schema/search.ts); the query side is fts5Tokens().
 */

/** Separator code points, base-36 ranges. */
const SEPARATORS =
  '0-1b,1m-1s,2j-2o,3f-4p,4r-4x,50,52-54,57,5b,5z,6v,jm-jp,k2-kf,kl-kr,kt,kv-lb,lh,lp-lq,ls,lu-m2,m' +
  '4-ma,mh-mk,mn,mq-of,ol,ou,p0-p1,p3,s6,w2-w9,122-127,13d-13e,13j,13l-153,16b-16c,16o-16s,16u-17f,' +
  '17i-17j,18r-19b,19m-19p,19s,1ck,1cm-1d0,1d3-1d9,1dp-1dq,1ds-1e5,1e7,1e9,1f4-1fu,1ie-1io,1kb-1kj,' +
  '1km-1kp,1li-1ll,1ln-1lv,1lx-1lz,1m1-1m5,1m8-1mm,1nd-1nf,1ni,1r8-1ry,1s0-1s3,1tm-1to,1tq-1u7,1u9-' +
  '1uf,1uq-1ut,1v4,1vl-1vn,1x8,1xa-1xg,1xj-1xk,1xn-1xp,1xz,1ya-1yb,1yq-1yr,1yy-1yz,1z5-1z7,20s,20u-' +
  '20y,213-214,217-219,21d,228-229,22d,22p-22r,24c,24e-24l,24n-24p,24r-24t,25e-25f,25s-25t,269-26b,' +
  '27w,27y-284,287-288,28b-28d,28m-28n,28y-28z,29c,29u,2bi-2bm,2bq-2bs,2bu-2bx,2c7,2cz-2d6,2dd-2df,' +
  '2f2-2f8,2fa-2fc,2fe-2fh,2fp-2fq,2g2-2g3,2gv,2gy-2gz,2ik,2im-2is,2iu-2iw,2iy-2j1,2j9-2ja,2jm-2jn,' +
  '2ki-2kj,2m6-2mc,2me-2mg,2mi-2ml,2mv,2n6-2n7,2nt,2o2-2o3,2q2,2q7-2qc,2qe,2qg-2qn,2r6-2r8,2sx,2t0-' +
  '2t6,2tb,2tj-2tr,2u2-2u3,2wh,2wk-2wp,2wr-2ws,2x4-2x9,2yp-2zj,304-30f,31t-32f,32l-32v,32x-33w,33y-' +
  '34c,34e-34q,36z-37i,37u-37z,386-389,38e-38g,38i-38k,38n-38t,38x-390,39e-39p,39r,3a2-3a7,3cr,3tp-' +
  '3u0,3v4-3vd,3y8,4fh-4fi,4g0,4gr-4gs,4iz-4j1,4k2-4k4,4ky-4l2,4lu-4lv,4mq-4mr,4ok-4pi,4pk-4pn,4pp,' +
  '4qo-4r2,4vd,4yo-4yz,4z4-4zf,4zk,4zo-4zp,52o-534,53c-53d,53y-54v,55j-55n,55q-55r,579-57i,57k-58c,' +
  '58f,59c-59i,59k-59p,5c0-5c4,5dg-5dw,5ei-5fg,5fk-5fm,5gh-5gt,5ie-5ir,5j0-5j3,5k4-5kn,5kr-5kv,5mm-' +
  '5mn,5og-5on,5ow-5pk,5pp,5pu-5pw,5vk-5wm,5x8-5xb,69p,69r-69t,6a5-6a7,6al-6an,6b1-6b3,6bh-6bi,6bk-' +
  '6ec,6ei-6en,6ey-6f2,6fe-6fi,6g0-6gp,6hc-6i8,6io-6ip,6ir-6iu,6iw-6ix,6j8,6ja-6jc,6ji-6jn,6jp,6jr,' +
  '6jt,6jy,6ka-6kb,6kg-6kk,6kq-6kt,6kv,6mo-73n,740-752,75s-762,78c-7ah,7b4-7pb,7pd-7sl,7tg-8jw,8k0-' +
  '8k9,8v9-8ve,8vj-8vl,8vt-8vw,8vy-8vz,8z4,8zj,928-94e,94g-94r,96o-97d,97f-99v,9a8-9g5,9gw-9h7,9hc-' +
  '9hg,9hk-9i8,9ii-9io,9iu-9iv,9j1-9j3,9ll-9lo,9ls,9ob,9sg-9sh,9sm-9sv,9ts-9ur,9vk-9we,9wq-9xj,9xs,' +
  '9y8-9z3,9ze-a0g,a0w-a2m,a2o-a9r,fcw-fen,wi8-wjq,wla-wlb,wst-wsv,wvj-wvy,wwv,wz4-wzb,wzk-x06,x0g-' +
  'x0h,x3d-x3e,x6q,x6u,x6z,x7n-x7v,x86-x89,x9w-x9z,xa8-xa9,xbo-xc4,xce-xcf,xcw-xdd,xdk-xdm,xeu-xf3,' +
  'xfr-xg3,xgf,xhc-xhf,xir-xjh,xjy-xjz,xm1-xme,xmr,xn0-xn1,xng-xnj,xo7-xo9,xob,xps,xpu-xpw,xpz-xq0,' +
  'xq6-xq7,xq9,xr2-xr3,xrf-xrl,xrp-xrq,xyb-xyl,16o0-188v,1dlq,1dm1,1dpu-1dq9,1e0u-1e0v,1e64-1e65,1e' +
  '68-1e6x,1e74-1e7a,1e7k-1e8i,1e8k-1e92,1e94-1e97,1edb,1edd-1edr,1ee2-1ee8,1eez-1ef4,1efv-1eg5,1ej' +
  'k-1ejq,1ejs-1ejy,1ek9-1ekf,1erk-1erm,1et3-1etb,1eux-1evd,1evk-1evv,1exc-1eyl,1fa7,1fbk,1g7r,1gdb' +
  ',1ge7,1gjl-1gjn,1gjp-1gjq,1gjw-1gjz,1gl4-1gl6,1glb,1gls-1gm0,1gn3,1gs9-1gsf,1hq8-1hqa,1hrs-1hsd,' +
  '1hts-1htu,1hv4-1hvl,1hxc-1hxe,1hyf-1hys,1hz4-1hz7,1i0w-1i0y,1i2b-1i2o,1i2t-1i2w,1j1n-1j1z,1lrk-1' +
  'lrn,20k1-20la,20lr-20lu,2jnk-2jud,2juo-2jvq,2jvt-2k0t,2k1s-2k3p,2k8w-2kba,2kzl,2l0b,2l17,2l1x,2l' +
  '2t,2l3j,2l4f,2l55,2l61,2l6r,2prk-2prl,2pz4-2q0b,2q0g-2q37,2q3k-2q3y,2q41-2q4e,2q4h-2q4v,2q4x-2q5' +
  'b,2q6o-2q7i,2q7k-2q97,2q9c-2qai,2qcm-2qde,2qds-2qey,2qf4-2qfc,2qfk-2qfl,2qkg-2qlc,2qls-2qlx,2qlz' +
  '-2qnw,2qo0-2qoj,2qow-2qpw,2qpy-2qq2,2qqo-2qr4,2qrk-2qta,2qtc,2qte-2qyf,2qyh-2qyk,2qyo-2r0d,2r0g-' +
  '2r0j,2r0w-2r1j,2r5n-2r7k,2r7p-2r7z,2r9c-2rb9,2rcw-2rg3,jny9,jnz4-jo1r,jo5c-jobz,nvnk-nvnj';
/** Folds, base-36 code point:folded code point ('' to drop). */
const FOLDS =
  '1t:2p,1u:2q,1v:2r,1w:2s,1x:2t,1y:2u,1z:2v,20:2w,21:2x,22:2y,23:2z,24:30,25:31,26:32,27:33,28:34,' +
  '29:35,2a:36,2b:37,2c:38,2d:39,2e:3a,2f:3b,2g:3c,2h:3d,2i:3e,51:qk,5c:2p,5d:2p,5e:2p,5f:2p,5g:2p,' +
  '5h:2p,5i:6e,5j:2r,5k:2t,5l:2t,5m:2t,5n:2t,5o:2x,5p:2x,5q:2x,5r:2x,5s:6o,5t:32,5u:33,5v:33,5w:33,' +
  '5x:33,5y:33,60:6w,61:39,62:39,63:39,64:39,65:3d,66:72,68:2p,69:2p,6a:2p,6b:2p,6c:2p,6d:2p,6f:2r,' +
  '6g:2t,6h:2t,6i:2t,6j:2t,6k:2x,6l:2x,6m:2x,6n:2x,6p:32,6q:33,6r:33,6s:33,6t:33,6u:33,6x:39,6y:39,' +
  '6z:39,70:39,71:3d,73:3d,74:2p,75:2p,76:2p,77:2p,78:2p,79:2p,7a:2r,7b:2r,7c:2r,7d:2r,7e:2r,7f:2r,' +
  '7g:2r,7h:2r,7i:2s,7j:2s,7k:7l,7m:2t,7n:2t,7o:2t,7p:2t,7q:2t,7r:2t,7s:2t,7t:2t,7u:2t,7v:2t,7w:2v,' +
  '7x:2v,7y:2v,7z:2v,80:2v,81:2v,82:2v,83:2v,84:2w,85:2w,86:87,88:2x,89:2x,8a:2x,8b:2x,8c:2x,8d:2x,' +
  '8e:2x,8f:2x,8g:2x,8i:8j,8k:2y,8l:2y,8m:2z,8n:2z,8p:30,8q:30,8r:30,8s:30,8t:30,8u:30,8v:8w,8x:8y,' +
  '8z:32,90:32,91:32,92:32,93:32,94:32,96:97,98:33,99:33,9a:33,9b:33,9c:33,9d:33,9e:9f,9g:36,9h:36,' +
  '9i:36,9j:36,9k:36,9l:36,9m:37,9n:37,9o:37,9p:37,9q:37,9r:37,9s:37,9t:37,9u:38,9v:38,9w:38,9x:38,' +
  '9y:9z,a0:39,a1:39,a2:39,a3:39,a4:39,a5:39,a6:39,a7:39,a8:39,a9:39,aa:39,ab:39,ac:3b,ad:3b,ae:3d,' +
  'af:3d,ag:3d,ah:3e,ai:3e,aj:3e,ak:3e,al:3e,am:3e,an:37,ap:gj,aq:ar,as:at,au:gk,av:aw,ax:gm,ay:gn,' +
  'az:b0,b2:d9,b3:gp,b4:gr,b5:b6,b7:gw,b8:gz,ba:h5,bb:h4,bc:bd,bg:hb,bh:he,bj:hh,bk:33,bl:33,bm:bn,' +
  'bo:bp,bq:hs,br:bs,bt:hv,bw:bx,by:i0,bz:39,c0:39,c1:i2,c2:i3,c3:c4,c5:c6,c7:ia,c8:c9,cc:cd,ck:cm,' +
  'cl:cm,cn:cp,co:cp,cq:cs,cr:cs,ct:2p,cu:2p,cv:2x,cw:2x,cx:33,cy:33,cz:39,d0:39,d1:d2,d3:d4,d5:d6,' +
  'd7:d8,da:db,dc:dd,de:df,dg:dh,di:2v,dj:2v,dk:2z,dl:2z,dm:33,dn:33,do:dp,dq:dr,ds:2y,dt:dv,du:dv,' +
  'dw:2v,dx:2v,dy:b9,dz:cf,e0:32,e1:32,e2:e3,e4:e5,e6:e7,e8:2p,e9:2p,ea:2p,eb:2p,ec:2t,ed:2t,ee:2t,' +
  'ef:2t,eg:2x,eh:2x,ei:2x,ej:2x,ek:33,el:33,em:33,en:33,eo:36,ep:36,eq:36,er:36,es:39,et:39,eu:39,' +
  'ev:39,ew:37,ex:37,ey:38,ez:38,f0:f1,f2:2w,f3:2w,f4:bi,f6:f7,f8:f9,fa:2p,fb:2p,fc:2t,fd:2t,fe:ff,' +
  'fg:fh,fi:33,fj:33,fk:fl,fm:3d,fn:3d,fu:8rp,fv:fw,fx:be,fy:8rq,g1:g2,g3:ao,g4:i1,g5:i4,g6:g7,g8:g' +
  '9,ga:gb,gc:gd,ge:gf,lc:,ld:,le:,lf:,lg:,li:,lj:,lk:,ll:,lm:,ln:,lo:,lr:,lt:,m3:,mb:,mc:,md:,me:,' +
  'mf:,mg:,ml:,mm:,mo:,mp:,og:oh,oi:oj,om:on,p2:q4,p4:q5,p5:q6,p6:q7,p8:r0,pa:r1,pb:r2,pd:q9,pe:qa,' +
  'pf:qb,pg:qc,ph:qd,pi:qe,pj:qf,pk:qg,pl:qh,pm:qi,pn:qj,po:qk,pp:ql,pq:qm,pr:qn,ps:qo,pt:qp,pv:qr,' +
  'pw:qs,px:qt,py:qu,pz:qv,q0:qw,q1:qx,q2:qy,q3:qz,qq:qr,r3:rb,r4:qa,r5:qg,r9:qu,ra:qo,rc:rd,re:rf,' +
  'rg:rh,ri:rj,rk:rl,rm:rn,ro:rp,rq:rr,rs:rt,ru:rv,rw:rx,ry:rz,s0:qi,s1:qp,s4:qg,s5:qd,s7:s8,s9:s2,' +
  'sa:sb,sd:or,se:os,sf:ot,sg:uo,sh:up,si:uq,sj:ur,sk:us,sl:ut,sm:uu,sn:uv,so:uw,sp:ux,sq:uy,sr:uz,' +
  'ss:v0,st:v1,su:v2,sv:v3,sw:ts,sx:tt,sy:tu,sz:tv,t0:tw,t1:tx,t2:ty,t3:tz,t4:u0,t5:u1,t6:u2,t7:u3,' +
  't8:u4,t9:u5,ta:u6,tb:u7,tc:u8,td:u9,te:ua,tf:ub,tg:uc,th:ud,ti:ue,tj:uf,tk:ug,tl:uh,tm:ui,tn:uj,' +
  'to:uk,tp:ul,tq:um,tr:un,v4:v5,v6:v7,v8:v9,va:vb,vc:vd,ve:vf,vg:vh,vi:vj,vk:vl,vm:vn,vo:vp,vq:vr,' +
  'vs:vt,vu:vv,vw:vx,vy:vz,w0:w1,wa:wb,wc:wd,we:wf,wg:wh,wi:wj,wk:wl,wm:wn,wo:wp,wq:wr,ws:wt,wu:wv,' +
  'ww:wx,wy:wz,x0:x1,x2:x3,x4:x5,x6:x7,x8:x9,xa:xb,xc:xd,xe:xf,xg:xh,xi:xj,xk:xl,xm:xn,xo:xp,xq:xr,' +
  'xs:y7,xt:xu,xv:xw,xx:xy,xz:y0,y1:y2,y3:y4,y5:y6,y8:y9,ya:yb,yc:yd,ye:yf,yg:yh,yi:yj,yk:yl,ym:yn,' +
  'yo:yp,yq:yr,ys:yt,yu:yv,yw:yx,yy:yz,z0:z1,z2:z3,z4:z5,z6:z7,z8:z9,za:zb,zc:zd,ze:zf,zg:zh,zi:zj,' +
  'zk:zl,zm:zn,zo:zp,zq:zr,zs:zt,zu:zv,zw:zx,zy:zz,100:101,102:103,104:105,106:107,108:109,10a:10b,' +
  '10c:10d,10e:10f,10g:10h,10i:10j,10k:10l,10m:10n,10x:129,10y:12a,10z:12b,110:12c,111:12d,112:12e,' +
  '113:12f,114:12g,115:12h,116:12i,117:12j,118:12k,119:12l,11a:12m,11b:12n,11c:12o,11d:12p,11e:12q,' +
  '11f:12r,11g:12s,11h:12t,11i:12u,11j:12v,11k:12w,11l:12x,11m:12y,11n:12z,11o:130,11p:131,11q:132,' +
  '11r:133,11s:134,11t:135,11u:136,11v:137,11w:138,11x:139,11y:13a,3a8:8w0,3a9:8w1,3aa:8w2,3ab:8w3,' +
  '3ac:8w4,3ad:8w5,3ae:8w6,3af:8w7,3ag:8w8,3ah:8w9,3ai:8wa,3aj:8wb,3ak:8wc,3al:8wd,3am:8we,3an:8wf,' +
  '3ao:8wg,3ap:8wh,3aq:8wi,3ar:8wj,3as:8wk,3at:8wl,3au:8wm,3av:8wn,3aw:8wo,3ax:8wp,3ay:8wq,3az:8wr,' +
  '3b0:8ws,3b1:8wt,3b2:8wu,3b3:8wv,3b4:8ww,3b5:8wx,3b6:8wy,3b7:8wz,3b8:8x0,3b9:8x1,3bb:8x3,3bh:8x9,' +
  '5xc:2p,5xd:2p,5xe:2q,5xf:2q,5xg:2q,5xh:2q,5xi:2q,5xj:2q,5xk:5xl,5xm:2s,5xn:2s,5xo:2s,5xp:2s,5xq:' +
  '2s,5xr:2s,5xs:2s,5xt:2s,5xu:2s,5xv:2s,5xw:5xx,5xy:5xz,5y0:2t,5y1:2t,5y2:2t,5y3:2t,5y4:5y5,5y6:2u' +
  ',5y7:2u,5y8:2v,5y9:2v,5ya:2w,5yb:2w,5yc:2w,5yd:2w,5ye:2w,5yf:2w,5yg:2w,5yh:2w,5yi:2w,5yj:2w,5yk:' +
  '2x,5yl:2x,5ym:5yn,5yo:2z,5yp:2z,5yq:2z,5yr:2z,5ys:2z,5yt:2z,5yu:30,5yv:30,5yw:5yx,5yy:30,5yz:30,' +
  '5z0:30,5z1:30,5z2:31,5z3:31,5z4:31,5z5:31,5z6:31,5z7:31,5z8:32,5z9:32,5za:32,5zb:32,5zc:32,5zd:3' +
  '2,5ze:32,5zf:32,5zg:5zh,5zi:5zj,5zk:5zl,5zm:5zn,5zo:34,5zp:34,5zq:34,5zr:34,5zs:36,5zt:36,5zu:36' +
  ',5zv:36,5zw:5zx,5zy:36,5zz:36,600:37,601:37,602:37,603:37,604:605,606:607,608:609,60a:38,60b:38,' +
  '60c:38,60d:38,60e:38,60f:38,60g:38,60h:38,60i:39,60j:39,60k:39,60l:39,60m:39,60n:39,60o:60p,60q:' +
  '60r,60s:3a,60t:3a,60u:3a,60v:3a,60w:3b,60x:3b,60y:3b,60z:3b,610:3b,611:3b,612:3b,613:3b,614:3b,6' +
  '15:3b,616:3c,617:3c,618:3c,619:3c,61a:3d,61b:3d,61c:3e,61d:3e,61e:3e,61f:3e,61g:3e,61h:3e,61i:2w' +
  ',61j:38,61k:3b,61l:3d,61n:37,61q:67,61s:2p,61t:2p,61u:2p,61v:2p,61w:61x,61y:61z,620:621,622:623,' +
  '624:625,626:627,628:629,62a:62b,62c:62d,62e:62f,62g:2t,62h:2t,62i:2t,62j:2t,62k:2t,62l:2t,62m:62' +
  'n,62o:62p,62q:62r,62s:62t,62u:62v,62w:2x,62x:2x,62y:2x,62z:2x,630:33,631:33,632:33,633:33,634:63' +
  '5,636:637,638:639,63a:63b,63c:63d,63e:63f,63g:63h,63i:63j,63k:63l,63m:63n,63o:39,63p:39,63q:39,6' +
  '3r:39,63s:63t,63u:63v,63w:63x,63y:63z,640:641,642:3d,643:3d,644:3d,645:3d,646:3d,647:3d,648:3d,6' +
  '49:3d,64a:64b,64c:64d,64e:64f,64o:64g,64p:64h,64q:64i,64r:64j,64s:64k,64t:64l,64u:64m,64v:64n,65' +
  '4:64w,655:64x,656:64y,657:64z,658:650,659:651,65k:65c,65l:65d,65m:65e,65n:65f,65o:65g,65p:65h,65' +
  'q:65i,65r:65j,660:65s,661:65t,662:65u,663:65v,664:65w,665:65x,666:65y,667:65z,66g:668,66h:669,66' +
  'i:66a,66j:66b,66k:66c,66l:66d,66x:66p,66z:66r,671:66t,673:66v,67c:674,67d:675,67e:676,67f:677,67' +
  'g:678,67h:679,67i:67a,67j:67b,688:680,689:681,68a:682,68b:683,68c:684,68d:685,68e:686,68f:687,68' +
  'o:68g,68p:68h,68q:68i,68r:68j,68s:68k,68t:68l,68u:68m,68v:68n,694:68w,695:68x,696:68y,697:68z,69' +
  '8:690,699:691,69a:692,69b:693,69k:69c,69l:69d,69m:67k,69n:67l,69o:69f,69q:qh,6a0:67m,6a1:67n,6a2' +
  ':67o,6a3:67p,6a4:69v,6ag:6a8,6ah:6a9,6ai:67q,6aj:67r,6aw:6ao,6ax:6ap,6ay:67u,6az:67v,6b0:6at,6bc' +
  ':67s,6bd:67t,6be:67w,6bf:67x,6bg:6b7,6jq:qx,6ju:2z,6jv:2p,6k2:6ku,6lc:6ls,6ld:6lt,6le:6lu,6lf:6l' +
  'v,6lg:6lw,6lh:6lx,6li:6ly,6lj:6lz,6lk:6m0,6ll:6m1,6lm:6m2,6ln:6m3,6lo:6m4,6lp:6m5,6lq:6m6,6lr:6m' +
  '7,6mb:6mc,8ow:8q8,8ox:8q9,8oy:8qa,8oz:8qb,8p0:8qc,8p1:8qd,8p2:8qe,8p3:8qf,8p4:8qg,8p5:8qh,8p6:8q' +
  'i,8p7:8qj,8p8:8qk,8p9:8ql,8pa:8qm,8pb:8qn,8pc:8qo,8pd:8qp,8pe:8qq,8pf:8qr,8pg:8qs,8ph:8qt,8pi:8q' +
  'u,8pj:8qv,8pk:8qw,8pl:8qx,8pm:8qy,8pn:8qz,8po:8r0,8pp:8r1,8pq:8r2,8pr:8r3,8ps:8r4,8pt:8r5,8pu:8r' +
  '6,8pv:8r7,8pw:8r8,8px:8r9,8py:8ra,8pz:8rb,8q0:8rc,8q1:8rd,8q2:8re,8q3:8rf,8q4:8rg,8q5:8rh,8q6:8r' +
  'i,8rk:8rl,8rm:h7,8rn:5tp,8ro:hp,8rr:8rs,8rt:8ru,8rv:8rw,8rx:gh,8ry:hd,8rz:gg,8s0:gi,8s2:8s3,8s5:' +
  '8s6,8se:fz,8sf:g0,8sg:8sh,8si:8sj,8sk:8sl,8sm:8sn,8so:8sp,8sq:8sr,8ss:8st,8su:8sv,8sw:8sx,8sy:8s' +
  'z,8t0:8t1,8t2:8t3,8t4:8t5,8t6:8t7,8t8:8t9,8ta:8tb,8tc:8td,8te:8tf,8tg:8th,8ti:8tj,8tk:8tl,8tm:8t' +
  'n,8to:8tp,8tq:8tr,8ts:8tt,8tu:8tv,8tw:8tx,8ty:8tz,8u0:8u1,8u2:8u3,8u4:8u5,8u6:8u7,8u8:8u9,8ua:8u' +
  'b,8uc:8ud,8ue:8uf,8ug:8uh,8ui:8uj,8uk:8ul,8um:8un,8uo:8up,8uq:8ur,8us:8ut,8uu:8uv,8uw:8ux,8uy:8u' +
  'z,8v0:8v1,8v2:8v3,8v4:8v5,8v6:8v7,8vf:8vg,8vh:8vi,8vm:8vn,wu8:wu9,wua:wub,wuc:wud,wue:wuf,wug:wu' +
  'h,wui:wuj,wuk:wul,wum:wun,wuo:wup,wuq:wur,wus:wut,wuu:wuv,wuw:wux,wuy:wuz,wv0:wv1,wv2:wv3,wv4:wv' +
  '5,wv6:wv7,wv8:wv9,wva:wvb,wvc:wvd,wve:wvf,wvg:wvh,ww0:ww1,ww2:ww3,ww4:ww5,ww6:ww7,ww8:ww9,wwa:ww' +
  'b,wwc:wwd,wwe:wwf,wwg:wwh,wwi:wwj,wwk:wwl,wwm:wwn,x0i:x0j,x0k:x0l,x0m:x0n,x0o:x0p,x0q:x0r,x0s:x0' +
  't,x0u:x0v,x0y:x0z,x10:x11,x12:x13,x14:x15,x16:x17,x18:x19,x1a:x1b,x1c:x1d,x1e:x1f,x1g:x1h,x1i:x1' +
  'j,x1k:x1l,x1m:x1n,x1o:x1p,x1q:x1r,x1s:x1t,x1u:x1v,x1w:x1x,x1y:x1z,x20:x21,x22:x23,x24:x25,x26:x2' +
  '7,x28:x29,x2a:x2b,x2c:x2d,x2e:x2f,x2g:x2h,x2i:x2j,x2k:x2l,x2m:x2n,x2x:x2y,x2z:x30,x31:5tl,x32:x3' +
  '3,x34:x35,x36:x37,x38:x39,x3a:x3b,x3f:x3g,x3h:h1,x3k:x3l,x3m:x3n,x40:x41,x42:x43,x44:x45,x46:x47' +
  ',x48:x49,x4a:h2,1ee9:1ef5,1eea:1ef6,1eeb:1ef7,1eec:1ef8,1eed:1ef9,1eee:1efa,1eef:1efb,1eeg:1efc,' +
  '1eeh:1efd,1eei:1efe,1eej:1eff,1eek:1efg,1eel:1efh,1eem:1efi,1een:1efj,1eeo:1efk,1eep:1efl,1eeq:1' +
  'efm,1eer:1efn,1ees:1efo,1eet:1efp,1eeu:1efq,1eev:1efr,1eew:1efs,1eex:1eft,1eey:1efu,1fcw:1fe0,1f' +
  'cx:1fe1,1fcy:1fe2,1fcz:1fe3,1fd0:1fe4,1fd1:1fe5,1fd2:1fe6,1fd3:1fe7,1fd4:1fe8,1fd5:1fe9,1fd6:1fe' +
  'a,1fd7:1feb,1fd8:1fec,1fd9:1fed,1fda:1fee,1fdb:1fef,1fdc:1feg,1fdd:1feh,1fde:1fei,1fdf:1fej,1fdg' +
  ':1fek,1fdh:1fel,1fdi:1fem,1fdj:1fen,1fdk:1feo,1fdl:1fep,1fdm:1feq,1fdn:1fer,1fdo:1fes,1fdp:1fet,' +
  '1fdq:1feu,1fdr:1fev,1fds:1few,1fdt:1fex,1fdu:1fey,1fdv:1fez,1fdw:1ff0,1fdx:1ff1,1fdy:1ff2,1fdz:1' +
  'ff3';

function parseRanges(spec: string): [number, number][] {
  return spec.split(',').map((r) => {
    const [a = '', b = a] = r.split('-');
    return [parseInt(a, 36), parseInt(b, 36)];
  });
}

/** Separator ranges [first, last], ascending, from U+0000 (the database refuses NUL anyway). */
const SEPARATOR_RANGES = parseRanges(SEPARATORS);

/** Code point -> folded code point, or -1 when the character is dropped. */
const FOLD_MAP = new Map<number, number>(
  FOLDS.split(',').map((f) => {
    const [from = '', to = ''] = f.split(':');
    return [parseInt(from, 36), to === '' ? -1 : parseInt(to, 36)];
  }),
);

function isSeparator(cp: number): boolean {
  let lo = 0;
  let hi = SEPARATOR_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = SEPARATOR_RANGES[mid] as [number, number];
    if (cp < first) hi = mid - 1;
    else if (cp > last) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The tokens FTS5 makes of a text (lower-cased and folded), in order. */
export function fts5Tokens(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (isSeparator(cp)) {
      if (current !== '') tokens.push(current);
      current = '';
      continue;
    }
    const folded = FOLD_MAP.get(cp);
    if (folded === undefined) current += ch;
    else if (folded >= 0) current += String.fromCodePoint(folded);
  }
  if (current !== '') tokens.push(current);
  return tokens;
}

const escaped = (cp: number): string => `\\U${cp.toString(16).padStart(8, '0')}`;

/**
 * SQL turning a text expression into FTS5's tokens as a tsvector (one lexeme per distinct token,
 * no positions): folds by translate(), splits on a bracket expression of the separator ranges.
 * Immutable, for a generated column.
 */
export function fts5TsvectorSql(expr: string): string {
  const kept = [...FOLD_MAP].filter(([, to]) => to >= 0);
  const dropped = [...FOLD_MAP].filter(([, to]) => to < 0);
  const from = [...kept, ...dropped].map(([cp]) => escaped(cp)).join('');
  const to = kept.map(([, cp]) => escaped(cp)).join('');
  // PostgreSQL's regular expressions take neither NUL nor surrogates (no text holds them anyway)
  const ranges = SEPARATOR_RANGES.flatMap(([a, b]): [number, number][] => [
    [Math.max(a, 1), Math.min(b, 0xd7ff)],
    [Math.max(a, 0xe000), b],
  ]).filter(([a, b]) => a <= b);
  const separators = ranges.map(([a, b]) => (a === b ? `\\${escaped(a)}` : `\\${escaped(a)}-\\${escaped(b)}`)).join('');
  return `array_to_tsvector(array_remove(regexp_split_to_array(translate(${expr}, E'${from}', E'${to}'), E'[${separators}]+'), ''))`;
}
